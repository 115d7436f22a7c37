/** Reading the room's stream and a server's inbox back: entries as Redis gives them, made into plain records. */
import type { Reply } from "./link.ts";

/** One stream entry's fields (see scripts.ts); a field not written is "". */
export interface Entry {
  id: string;
  /** Type: message, action, join, leave, rename, away, topic, ban, unban (room); tell, kick, mute (inbox). */
  t: string;
  f: string;
  x: string;
  n: string;
  s: string;
  q: string;
  o: string;
  k: string;
  to: string;
  B: string;
  u: string;
  /** Lines in the entry (a member's lines in a row share one): "" is one. */
  c: string;
  m: string;
}

const FIELDS = new Set(["t", "f", "x", "n", "s", "q", "o", "k", "to", "B", "u", "c", "m"]);

function entry(id: string, fields: readonly unknown[]): Entry {
  const e: Entry = { id, t: "", f: "", x: "", n: "", s: "", q: "", o: "", k: "", to: "", B: "", u: "", c: "", m: "" };
  const record = e as unknown as Record<string, string>;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = String(fields[i]);
    if (FIELDS.has(key)) record[key] = String(fields[i + 1]);
  }
  return e;
}

/** Entries of an XRANGE/XREVRANGE reply (`[[id, [field, value, …]], …]`). */
export function entries(reply: Reply): Entry[] {
  if (!Array.isArray(reply)) return [];
  const out: Entry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const [id, fields] = item as [unknown, unknown];
    out.push(entry(String(id), Array.isArray(fields) ? fields : []));
  }
  return out;
}

/** An XREAD reply by stream key: a map (RESP3) or pairs (RESP2); null when BLOCK ran out. */
export function streams(reply: Reply): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  if (reply === null || typeof reply !== "object") return out;
  const pairs: [unknown, unknown][] = Array.isArray(reply)
    ? (reply as unknown[]).filter(Array.isArray).map((pair) => pair as [unknown, unknown])
    : Object.entries(reply as Record<string, unknown>);
  for (const [key, list] of pairs) out.set(String(key), entries(list));
  return out;
}

/** The time in an entry id (`MS-SEQ`). */
export function idTime(id: string): number {
  const dash = id.indexOf("-");
  return Number(dash < 0 ? id : id.slice(0, dash));
}
