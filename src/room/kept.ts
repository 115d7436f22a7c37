/**
 * What a hub keeps of the room's lines and hands back: a newcomer's history
 * (the last lines as text, one buffer shared by every newcomer until a line
 * is said) and the JSON replay of `/events json [after=ID]`. The lines
 * themselves are in RecentLines; a hub shared by several servers numbers
 * them as its backend does (`at`), so ids agree on every server.
 */
import type { Stamp } from "./delivery.ts";
import type { Member } from "./members.ts";
import { nameKey } from "./names.ts";
import { RECENT_MIN_LINES, RecentLines } from "./recent.ts";
import { eventsReply } from "./wire.ts";

const encoder = new TextEncoder();
/** A JSON replay takes at most this share of `--max-queue`: the lines said meanwhile need room too. */
const REPLAY_QUEUE_SHARE = 0.5;
/**
 * A newcomer's history is at most this many bytes (the newest whole lines), and at most the
 * replay's share of `--max-queue`: `--history 10000` of 64 KiB lines would otherwise be
 * 625 MiB per newcomer, and more than its queue may hold.
 */
export const HISTORY_MAX_BYTES = 1024 * 1024;
const LF = 0x0a;

export interface KeptOptions {
  /** Lines a newcomer is shown (`--history`). */
  history: number;
  maxQueue: number;
}

export class KeptLines {
  private recent: RecentLines;
  /** The last history sent, shared by every newcomer until a line is said: no copy per newcomer. */
  private historySent: { last: number; n: number; bytes: Uint8Array } | null = null;

  constructor(
    /** When the room began (ms): the START of its ids. */
    start: number,
    private readonly options: KeptOptions,
  ) {
    this.recent = this.fresh(start);
  }

  /** The number of the last line kept. */
  get last(): number {
    return this.recent.last;
  }

  get start(): number {
    return this.recent.start;
  }

  id(seq: number): string {
    return this.recent.id(seq);
  }

  /** Keeps `lines` lines, `bytes[start, end)` as relayed, said by `sender` (a member's serial) at `ts`. */
  add(bytes: Uint8Array, start: number, end: number, lines: number, sender: number, ts: number): Stamp {
    return { seq: this.recent.add(bytes, start, end, lines, sender, ts), ts };
  }

  /** Keeps one line numbered `seq` by the backend (numbers only grow; a gap is lines this server never saw). */
  at(seq: number, line: Uint8Array, sender: number, ts: number): void {
    if (seq <= this.recent.last) return;
    this.recent.last = seq - 1;
    this.recent.add(line, 0, line.length, 1, sender, ts);
  }

  /** Forgets every line: the room starts again at `start` (its backend lost them). */
  reset(start: number): void {
    this.recent = this.fresh(start);
    this.historySent = null;
  }

  /** A newcomer's history: the last `n` lines as text, newest whole lines within the byte bound. */
  history(n: number, send: (bytes: Uint8Array) => void): void {
    if (n <= 0) return;
    const last = this.recent.last;
    const kept = this.historySent;
    if (kept && kept.last === last && kept.n === n) {
      send(kept.bytes);
      return;
    }
    const tail = this.recent.tail(n);
    if (!tail) return;
    const bytes = newestWithin(tail, Math.min(HISTORY_MAX_BYTES, this.options.maxQueue * REPLAY_QUEUE_SHARE));
    this.historySent = { last, n, bytes };
    if (bytes.length > 0) send(bytes);
  }

  /** What `/events json [after=ID]` answers `m`, given every name in the room. */
  replay(m: Member, names: readonly string[], after: string | undefined, send: (reply: Uint8Array) => void): void {
    const replay = this.recent.replay(after, this.options.history, m.textFrom, m.serial);
    const limit = this.options.maxQueue * REPLAY_QUEUE_SHARE;
    const ignoring = m.ignoring;
    const hidden = ignoring && ((from: string) => ignoring.has(nameKey(from)));
    send(encoder.encode(eventsReply(Date.now(), m.name, names, replay, (seq) => this.recent.id(seq), limit, hidden || undefined)));
  }

  private fresh(start: number): RecentLines {
    return new RecentLines(start, Math.max(this.options.history, RECENT_MIN_LINES));
  }
}

/** The newest whole lines of `bytes` (each ending with a newline) that fit in `most` bytes. */
function newestWithin(bytes: Uint8Array, most: number): Uint8Array {
  if (bytes.length <= most) return bytes;
  const start = bytes.indexOf(LF, bytes.length - most - 1) + 1;
  return start > 0 ? bytes.subarray(start) : bytes.subarray(bytes.length);
}
