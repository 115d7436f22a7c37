/**
 * The members connected to the room's other servers, as this server last
 * read them: their names, and what each published of itself (when it came,
 * its address, whether it is away), for `/who` and `/whois`.
 */
import { nameKey } from "../room/names.ts";

/** What a member publishes of itself (kept in Redis's `info` hash and carried by its join). */
export interface Published {
  /** When it connected (ms), or null when not known. */
  since: number | null;
  peer: string;
  address: string;
  /** Its away text ("" for none), or null when here. */
  away: string | null;
}

export interface Elsewhere extends Published {
  name: string;
  node: string;
}

const NOTHING: Published = { since: null, peer: "", address: "", away: null };

/** `SINCE\tPEER\tADDRESS\tAWAY`, AWAY "" when here, else `+` and its text (which may hold tabs: it comes last). */
export function encodeInfo(p: Published): string {
  return `${p.since ?? ""}\t${p.peer}\t${p.address}\t${p.away === null ? "" : `+${p.away}`}`;
}

export function decodeInfo(value: string | undefined): Published {
  if (!value) return NOTHING;
  const [since = "", peer = "", address = "", ...rest] = value.split("\t");
  const away = rest.join("\t");
  return { since: since === "" ? null : Number(since), peer, address, away: away.startsWith("+") ? away.slice(1) : null };
}

export class Roster {
  private readonly byKey = new Map<string, Elsewhere>();
  /** Grows with every change: a cache of names made from this roster is fresh while it is the same. */
  version = 0;

  get(name: string): Elsewhere | undefined {
    return this.byKey.get(nameKey(name));
  }

  /** `name` is on `node`, as it published itself; true when that was new. */
  add(name: string, node: string, published: Published = NOTHING): boolean {
    const had = this.byKey.get(nameKey(name));
    this.byKey.set(nameKey(name), { ...published, name, node });
    this.version++;
    return had?.node !== node || had.name !== name;
  }

  /** `name` left `node` (a name another server holds by now stays). */
  remove(name: string, node: string): void {
    const had = this.byKey.get(nameKey(name));
    if (had?.node !== node) return;
    this.byKey.delete(nameKey(name));
    this.version++;
  }

  rename(from: string, to: string, node: string): void {
    const had = this.byKey.get(nameKey(from));
    this.remove(from, node);
    this.add(to, node, had?.node === node ? had : NOTHING);
  }

  /** `name` of `node` is away (text) or back (null). */
  setAway(name: string, node: string, away: string | null): void {
    const had = this.byKey.get(nameKey(name));
    if (had?.node === node) had.away = away;
  }

  /** Starts again from what Redis holds (`names`' values: `NODE\tSERIAL\tANNOUNCED\tNAME`; `info` by name key): other servers' announced members. */
  load(values: readonly string[], info: ReadonlyMap<string, string>, self: string): void {
    this.byKey.clear();
    for (const value of values) {
      const [node = "", , announced, name = ""] = value.split("\t");
      if (node && name && node !== self && announced === "1")
        this.byKey.set(nameKey(name), { ...decodeInfo(info.get(nameKey(name))), name, node });
    }
    this.version++;
  }

  names(): string[] {
    return [...this.byKey.values()].map((e) => e.name);
  }
}
