/**
 * What the console's moderation does to a member of this server: kicked,
 * banned or muted, told why. The same for a member the console reached in
 * this process and one reached through another server (cluster/arrivals.ts).
 * Also what `/whois` knows of a member here.
 */
import type { Ban } from "./bans.ts";
import { banCovers, banTerms } from "./bans.ts";
import type { Delivery } from "./delivery.ts";
import type { Member } from "./members.ts";

/** What `/whois` tells of a member: `idleMs` and `peer` are known on its own server only. */
export interface MemberInfo {
  name: string;
  /** When it connected (ms), when known. */
  since: number | null;
  idleMs: number | null;
  away: string | null;
  /** The server it is on, in a room over several servers, and whether that is this one. */
  node?: string;
  local?: boolean;
  /** Its address and port, and the address alone (for the console only). */
  peer?: string;
  address?: string;
}

export const MUTED = "you are muted";

/** A member of this server as `/whois` shows it. */
export function infoHere(m: Member, now = Date.now()): MemberInfo {
  const where = m.conn ? { peer: m.peer, address: m.address } : {};
  return { name: m.name, since: m.since, idleMs: now - m.spokeAt, away: m.away, ...where };
}

/** `m` leaves, told why; the room sees `NAME was kicked (REASON)`. */
export function kickHere(delivery: Delivery, m: Member, reason: string): void {
  if (!m.conn?.isOpen) return;
  m.parting = reason;
  delivery.tell(m, { type: "error", code: "kicked", text: reason ? `you were kicked: ${reason}` : "you were kicked" });
  m.conn.end("kicked");
}

/** Every member here that `ban` covers (by name or address) leaves, told why; the room sees `NAME was banned (REASON)`. */
export function banHere(delivery: Delivery, members: Iterable<Member>, ban: Ban): void {
  const now = Date.now();
  for (const m of [...members]) {
    if (!m.conn?.isOpen || !banCovers(ban, m.name, m.address, now)) continue;
    m.parting = ban.reason;
    delivery.tell(m, { type: "error", code: "banned", text: `you are banned${banTerms(ban)}` });
    m.conn.end("banned");
  }
}

/** `m`'s lines are refused (`on`) or said again, and it is told. */
export function muteHere(delivery: Delivery, m: Member, on: boolean): void {
  if (!m.conn || m.muted === on) return;
  m.muted = on;
  if (on) delivery.tell(m, { type: "error", code: "muted", text: `${MUTED} (your lines are not sent to the room)` });
  else delivery.tell(m, { type: "notice", text: "you are no longer muted" });
}
