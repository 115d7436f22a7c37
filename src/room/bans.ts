/**
 * Bans set by the console (`/ban NAME|CIDR [DURATION] [REASON]`): a banned
 * address (or block) may not connect, a banned name may not be taken, each
 * told why, until the ban runs out or is lifted. A ban ends by itself: it is
 * no longer found once its time has passed (nothing to sweep).
 */
import { type ChatEvent, utcTime } from "../events.ts";
import { type Cidr, cidrContains, parseCidr } from "../net/cidr.ts";
import { nameKey, nameProblem } from "./names.ts";

export interface Ban {
  /** `name:KEY` or `address:CIDR`: one ban per target. */
  key: string;
  /** What is banned, as shown: a name, or an address or CIDR block. */
  target: string;
  kind: "name" | "address";
  /** When it ends (ms), or null: until lifted. */
  until: number | null;
  reason: string;
  /** Who set it (a console's name). */
  by: string;
  /**
   * An address banned with a name (`/ban NAME`): the address NAME was
   * connected from. Newcomers from it are refused; members already connected
   * from it (others behind the same NAT) stay.
   */
  of?: string;
}

type Target = Pick<Ban, "key" | "target" | "kind">;

/** What `/ban TARGET` names: an address or CIDR block when it reads as one (`10.0.0.7`, `::1`, `10.0.0.0/8`), else a name; null when neither. */
export function banTarget(text: string): Target | null {
  const cidr = parseCidr(text);
  if (cidr) {
    const target = cidr.text.toLowerCase();
    return { key: `address:${target}`, target, kind: "address" };
  }
  if (nameProblem(text)) return null;
  return { key: `name:${nameKey(text)}`, target: text, kind: "name" };
}

/** The ban as the console's record (a `ban` event). */
export function banEvent(ban: Ban, lifted = false): ChatEvent {
  const until = ban.until ?? undefined;
  return { type: "ban", target: ban.target, until, reason: ban.reason, by: ban.by, lifted };
}

/** ` until TIME: REASON`, what a refused newcomer is told after `you are banned`. */
export function banTerms(ban: Ban): string {
  const until = ban.until === null ? "" : ` until ${utcTime(ban.until)}`;
  return `${until}${ban.reason ? `: ${ban.reason}` : ""}`;
}

/** Whether `ban`, in force, removes a member called `name` connected from `address` (see Ban.of). */
export function banCovers(ban: Ban, name: string, address: string, now = Date.now()): boolean {
  if ((ban.until !== null && ban.until <= now) || ban.of !== undefined) return false;
  if (ban.kind === "name") return ban.key === `name:${nameKey(name)}`;
  const cidr = parseCidr(ban.target);
  return address !== "" && cidr !== null && cidrContains(cidr, address);
}

/** A ban as Redis keeps it (under its key): `UNTIL\tBY\tOF\tREASON`. */
export function encodeBan(ban: Ban): string {
  return `${ban.until ?? ""}\t${ban.by}\t${ban.of ?? ""}\t${ban.reason}`;
}

export function decodeBan(key: string, value: string): Ban | null {
  const [kind, ...rest] = key.split(":");
  const target = rest.join(":");
  if ((kind !== "name" && kind !== "address") || !target) return null;
  const [until = "", by = "", of = "", ...reason] = value.split("\t");
  const ban: Ban = { key, target, kind, until: until === "" ? null : Number(until), by, reason: reason.join("\t") };
  if (of) ban.of = of;
  return ban;
}

export class BanList {
  private readonly byKey = new Map<string, { ban: Ban; cidr: Cidr | null }>();

  get size(): number {
    return this.byKey.size;
  }

  set(ban: Ban): void {
    this.byKey.set(ban.key, { ban, cidr: ban.kind === "address" ? parseCidr(ban.target) : null });
  }

  /** Every ban from now on is one of `stored` (key → value as encodeBan makes it). */
  replace(stored: ReadonlyMap<string, string>): void {
    this.byKey.clear();
    for (const [key, value] of stored) {
      const ban = decodeBan(key, value);
      if (ban) this.set(ban);
    }
  }

  /** The ban on `key` (in force or not); it is lifted. */
  lift(key: string): Ban | undefined {
    const had = this.byKey.get(key);
    this.byKey.delete(key);
    return had?.ban;
  }

  /** The bans in force (those past their time are dropped). */
  list(now = Date.now()): Ban[] {
    const out: Ban[] = [];
    for (const [key, { ban }] of this.byKey) {
      if (ban.until !== null && ban.until <= now) this.byKey.delete(key);
      else out.push(ban);
    }
    return out;
  }

  /** The ban in force on `name`. */
  name(name: string, now = Date.now()): Ban | undefined {
    if (this.byKey.size === 0) return undefined;
    const ban = this.byKey.get(`name:${nameKey(name)}`)?.ban;
    return ban && (ban.until === null || ban.until > now) ? ban : undefined;
  }

  /** A ban in force on an address (`127.0.0.1`, `::1`); none for "" (the console, a unix socket). */
  address(address: string, now = Date.now()): Ban | undefined {
    if (this.byKey.size === 0 || address === "") return undefined;
    for (const { ban, cidr } of this.byKey.values()) {
      if (cidr && (ban.until === null || ban.until > now) && cidrContains(cidr, address)) return ban;
    }
    return undefined;
  }
}
