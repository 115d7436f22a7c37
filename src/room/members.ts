/**
 * Who is in a room: the server's console and one member per connection, by
 * name (unique regardless of case: `nameKey`), with guest names for
 * newcomers and the join grace (a newcomer is announced after its first line
 * or JOIN_GRACE_MS, so a client's `/nick` comes before its join).
 */
import type { LineInput } from "../modes/input.ts";
import { plainAddress } from "../net/address.ts";
import type { TokenBucket } from "../net/bucket.ts";
import type { Conn } from "../net/conn.ts";
import { type LinePrefix, linePrefix } from "../text/plain-lines.ts";
import { nameKey } from "./names.ts";

/** A newcomer's join is announced after its first line or this long after connecting, so a client's `/nick` comes first. */
export const JOIN_GRACE_MS = 400;

export interface Member {
  name: string;
  /** `NAME: `, the start of each line this member says. */
  prefix: LinePrefix;
  /** null for the server's console. */
  conn: Conn | null;
  peer: string;
  announced: boolean;
  joinTimer: Timer | null;
  input: LineInput | null;
  /** Tells the room's lines apart by who said them (the console is 0). */
  serial: number;
  /** Takes JSON events (`/events json`). */
  json: boolean;
  /** Room lines numbered above this were sent to it as plain text (since it connected, or last asked for text). */
  textFrom: number;
  /** Renames it may still make now (see RENAME_BURST), and when they were last topped up. */
  renames: number;
  renamesAt: number;
  /** The same for away, back and topic changes (see takeChange). */
  changes: Tokens;
  /** Operations of the hub (a name being claimed) its next lines wait for: they are held, in order. */
  waiting: number;
  /** Its address without the port ("" for the console and unix sockets): what `/ban NAME` bans. */
  address: string;
  /** When it connected, and when it last sent a line (ms): `/whois`. */
  since: number;
  spokeAt: number;
  /** `/away` text ("" when it gave none), or null when here. */
  away: string | null;
  /** The console muted it: its lines are refused. */
  muted: boolean;
  /** The names it ignores, by name key (see Ignores), or null for none. */
  ignoring: Map<string, string> | null;
  /** Its rate limits' buckets (rate.ts), kept when it moves to another room; null until its input is made. */
  buckets: RateBuckets | null;
  /** Its last words: `/quit TEXT`, or why it was kicked or banned ("" for none). */
  parting: string;
}

/** A member's buckets: the lines it says (`--rate-limit`) and its commands. */
export interface RateBuckets {
  lines: TokenBucket | null;
  commands: TokenBucket;
}

/** A member may rename this many times at once, then once a second: each rename reaches everyone. */
export const RENAME_BURST = 3;
const RENAME_REFILL_MS = 1000;

/** A few at once, then one a second: `left` now, topped up at `at`. */
interface Tokens {
  left: number;
  at: number;
}

function take(t: Tokens, now: number): boolean {
  const refilled = Math.floor((now - t.at) / RENAME_REFILL_MS);
  if (refilled > 0) {
    t.left = Math.min(RENAME_BURST, t.left + refilled);
    t.at += refilled * RENAME_REFILL_MS;
  }
  if (t.left >= RENAME_BURST) t.at = now;
  if (t.left === 0) return false;
  t.left--;
  return true;
}

/** Takes one of `m`'s renames; false when none is left for now. */
export function takeRename(m: Member, now = Date.now()): boolean {
  const t = { left: m.renames, at: m.renamesAt };
  const ok = take(t, now);
  m.renames = t.left;
  m.renamesAt = t.at;
  return ok;
}

/** Takes one of `m`'s changes everyone is told of (away, back, a topic): as many as renames, counted apart. */
export function takeChange(m: Member, now = Date.now()): boolean {
  return take(m.changes, now);
}

export class Members implements Iterable<Member> {
  private readonly byName = new Map<string, Member>();
  readonly console: Member;
  private guests = 0;
  private serials = 0;
  /**
   * Every name sorted, made once and then kept in order in place (a `/who` costs no sort, a
   * join no copy: a thousand joins copying a thousand names each were megabytes of garbage).
   */
  private sorted: string[] | null = null;
  /** Goes up with every change to the names (the list itself is the same array: see names()). */
  version = 0;

  constructor(
    consoleName: string,
    private readonly nextGuest: () => string | undefined = () => undefined,
  ) {
    // The console has no address: its join prints no `from`.
    this.console = this.make(consoleName, null, "", 0);
    this.console.announced = true;
    this.byName.set(nameKey(consoleName), this.console);
  }

  get size(): number {
    return this.byName.size;
  }

  [Symbol.iterator](): Iterator<Member> {
    return this.byName.values();
  }

  find(name: string): Member | undefined {
    return this.byName.get(nameKey(name));
  }

  /** A newcomer, under a guest name until it picks one (or, moving in from another room, under its `name`). */
  add(conn: Conn, textFrom: number, wanted = this.nextGuest()): Member {
    let name = wanted;
    while (name === undefined || this.byName.has(nameKey(name))) name = `guest-${++this.guests}`;
    const m = this.make(name, conn, conn.peer, textFrom);
    this.byName.set(nameKey(name), m);
    // Kept sorted by insertion: a crowd joining costs no sort per newcomer.
    if (this.sorted) insertName(this.sorted, name);
    this.version++;
    return m;
  }

  /** `m` is gone (its name is free again). */
  remove(m: Member): void {
    if (m.joinTimer) clearTimeout(m.joinTimer);
    m.joinTimer = null;
    if (this.byName.get(nameKey(m.name)) !== m) return;
    this.byName.delete(nameKey(m.name));
    if (this.sorted) removeName(this.sorted, m.name);
    this.version++;
  }

  /** The console comes into this room (`present`, under `name`) or leaves it: it is listed and found only where it is. */
  placeConsole(present: boolean, name = this.console.name): void {
    const c = this.console;
    if (this.byName.get(nameKey(c.name)) === c) this.byName.delete(nameKey(c.name));
    c.name = name;
    c.prefix = linePrefix(`${name}: `);
    if (present) this.byName.set(nameKey(name), c);
    this.sorted = null;
    this.version++;
  }

  rename(m: Member, name: string): void {
    this.byName.delete(nameKey(m.name));
    if (this.sorted) {
      removeName(this.sorted, m.name);
      insertName(this.sorted, name);
    }
    m.name = name;
    m.prefix = linePrefix(`${name}: `);
    this.byName.set(nameKey(name), m);
    this.version++;
  }

  /** Every name, sorted: the room's own list, changed in place as members come, go and rename (copy it to keep it). */
  names(): readonly string[] {
    this.sorted ??= [...this.byName.values()].map((m) => m.name).sort(collate);
    return this.sorted;
  }

  /** Starts `m`'s join grace: `announce` is called when it ends, unless `announced` came first. */
  graceFor(m: Member, announce: () => void): void {
    m.joinTimer = setTimeout(announce, JOIN_GRACE_MS);
  }

  /** Marks `m` announced; false when it already was, or is gone. */
  markAnnounced(m: Member): boolean {
    if (m.announced || !m.conn?.isOpen) return false;
    m.announced = true;
    if (m.joinTimer) clearTimeout(m.joinTimer);
    m.joinTimer = null;
    return true;
  }

  private make(name: string, conn: Conn | null, peer: string, textFrom: number): Member {
    const now = Date.now();
    return {
      name,
      prefix: linePrefix(`${name}: `),
      conn,
      peer,
      announced: false,
      joinTimer: null,
      input: null,
      serial: conn ? ++this.serials : 0,
      json: false,
      textFrom,
      renames: RENAME_BURST,
      renamesAt: now,
      changes: { left: RENAME_BURST, at: now },
      waiting: 0,
      address: plainAddress(conn?.socket.remoteAddress ?? ""),
      since: now,
      spokeAt: now,
      away: null,
      muted: false,
      ignoring: null,
      buckets: null,
      parting: "",
    };
  }
}

/** Made at the first sort, not at start-up (half a millisecond). */
let collator: Intl.Collator | null = null;
function collate(a: string, b: string): number {
  collator ??= new Intl.Collator();
  return collator.compare(a, b);
}

/** Where `name` goes in `sorted` (binary search). */
function place(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (collate(sorted[mid] ?? "", name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Puts `name` in its place in `sorted`. */
function insertName(sorted: string[], name: string): void {
  sorted.splice(place(sorted, name), 0, name);
}

/** Takes `name` out of `sorted`. */
function removeName(sorted: string[], name: string): void {
  const at = sorted.indexOf(name);
  if (at >= 0) sorted.splice(at, 1);
}
