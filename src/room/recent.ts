/**
 * The room's recent lines (messages and actions said to everyone), with the
 * id and time of each: what a newcomer gets as history and what a client that
 * switches to JSON events gets replayed (docs/events.md).
 *
 * Lines are kept in chunks, as relayed: the lines a sender said in one read
 * are one chunk, one copy, one entry, so keeping them costs nothing per line.
 * A chunk's lines are told apart (by their newlines) only when they are read
 * back. The bytes go into one buffer used round and round, grown as needed
 * up to the byte bound: a busy room makes no garbage per read (a copy per
 * read of a burst added megabytes of peak memory until collected). Lines are
 * numbered in order from 1; an id is `START-SEQ`, START the room's creation
 * time in ms, so ids stay unique across restarts.
 */
import { copyBytes } from "../text/bytes.ts";

/** Lines kept at least (more when --history asks for more), so a reconnect a little later still finds its place. */
export const RECENT_MIN_LINES = 1000;
/** And at most this many bytes of them: the oldest go first. */
export const RECENT_MAX_BYTES = 4 * 1024 * 1024;
const LF = 0x0a;
const FIRST_CHUNKS = 64;
const FIRST_BYTES = 64 * 1024;

interface Chunk {
  /** Number of its first line. */
  seq: number;
  count: number;
  /** When it was said, ms. */
  ts: number;
  /** Who said it (see `add`). */
  sender: number;
  /** Its lines, each with its newline: `store[at, at + length)`. */
  at: number;
  length: number;
}

/** One line read back: `bytes[start, end)` without its newline, valid until the next `add`. */
export interface RecentLine {
  seq: number;
  ts: number;
  sender: number;
  bytes: Uint8Array;
  start: number;
  end: number;
}

export interface Replay {
  lines: RecentLine[];
  /** False when lines after the id asked for may be missing. */
  complete: boolean;
}

export class RecentLines {
  /** A ring of chunks, oldest at `head`; grows by doubling. */
  private chunks: (Chunk | undefined)[] = new Array(FIRST_CHUNKS);
  private head = 0;
  /**
   * The chunks' bytes, in their order, round and round: from the oldest's
   * `at` on, and (once the next did not fit at the end) on from 0 up to
   * `write`, where the next goes.
   */
  private store = new Uint8Array(FIRST_BYTES);
  private write = 0;
  private size = 0;
  private lines = 0;
  private bytes = 0;
  /** Number of the last line said (0: none yet). */
  last = 0;

  constructor(
    /** The room's creation time in ms: the START of its ids. */
    readonly start: number,
    private readonly keep: number = RECENT_MIN_LINES,
    private readonly maxBytes: number = RECENT_MAX_BYTES,
  ) {}

  /** Keeps `count` lines, `bytes[start, end)` (each ending with a newline), said by `sender` at `ts`; returns the first one's number. */
  add(bytes: Uint8Array, start: number, end: number, count: number, sender: number, ts: number): number {
    const seq = this.last + 1;
    const length = end - start;
    this.last += count;
    const at = this.place(length, count);
    copyBytes(bytes, start, end, this.store, at);
    this.write = at + length;
    if (this.size === this.chunks.length) this.growChunks();
    this.chunks[(this.head + this.size) % this.chunks.length] = { seq, count, ts, sender, at, length };
    this.size++;
    this.lines += count;
    this.bytes += length;
    this.evict();
    return seq;
  }

  id(seq: number): string {
    return `${this.start}-${seq}`;
  }

  /** The number of the line `id` names, or null when it is not one of this room's ids. */
  seqOf(id: string): number | null {
    const match = /^(\d+)-(\d+)$/.exec(id);
    if (!match || Number(match[1]) !== this.start) return null;
    const seq = Number(match[2]);
    return Number.isSafeInteger(seq) && seq <= this.last ? seq : null;
  }

  /** Number of the oldest line held (`last + 1` when none is). */
  get oldest(): number {
    return this.chunk(0)?.seq ?? this.last + 1;
  }

  /** A copy of the last `n` lines held, as relayed (for a newcomer); null when there are none. */
  tail(n: number): Uint8Array | null {
    const parts: Uint8Array[] = [];
    let need = n;
    for (let i = this.size - 1; i >= 0 && need > 0; i--) {
      const c = this.chunk(i);
      if (!c) break;
      const bytes = this.store.subarray(c.at, c.at + c.length);
      parts.push(c.count <= need ? bytes : bytes.subarray(lastLines(bytes, need)));
      need -= c.count;
    }
    return parts.length === 0 ? null : Buffer.concat(parts.reverse());
  }

  /** Every line held from number `from` on, oldest first. */
  *from(from: number): Generator<RecentLine> {
    for (let i = 0; i < this.size; i++) {
      const c = this.chunk(i);
      if (!c || c.seq + c.count <= from) continue;
      const bytes = this.store;
      let at = c.at;
      for (let seq = c.seq; seq < c.seq + c.count; seq++) {
        const lf = bytes.indexOf(LF, at);
        const end = lf < 0 || lf >= c.at + c.length ? c.at + c.length : lf;
        if (seq >= from) yield { seq, ts: c.ts, sender: c.sender, bytes, start: at, end };
        at = end + 1;
      }
    }
  }

  /**
   * The lines a connection switching to JSON gets replayed. With `after` (an
   * id): every line held after it; all held, and not complete, when the id is
   * not this room's or older than what is held. Without: the last `history`
   * lines, and every line after number `textFrom` that `self` did not say
   * (what it was sent as plain text).
   */
  replay(after: string | undefined, history: number, textFrom: number, self: number): Replay {
    if (after !== undefined) {
      const seq = this.seqOf(after);
      if (seq === null || seq < this.oldest - 1) return { lines: [...this.from(0)], complete: false };
      return { lines: [...this.from(seq + 1)], complete: true };
    }
    const recent = this.last - history;
    const lines: RecentLine[] = [];
    for (const line of this.from(Math.min(recent, textFrom) + 1)) if (line.seq > recent || line.sender !== self) lines.push(line);
    return { lines, complete: true };
  }

  private chunk(i: number): Chunk | undefined {
    return this.chunks[(this.head + i) % this.chunks.length];
  }

  /** Lets the oldest chunks go while the rest still hold `keep` lines, or while there are too many bytes. */
  private evict(): void {
    while (this.size > 1) {
      const oldest = this.chunks[this.head];
      if (!oldest || (this.lines - oldest.count < this.keep && this.bytes <= this.maxBytes)) return;
      this.dropOldest(oldest);
    }
  }

  private dropOldest(oldest: Chunk): void {
    this.chunks[this.head] = undefined;
    this.head = (this.head + 1) % this.chunks.length;
    this.size--;
    this.lines -= oldest.count;
    this.bytes -= oldest.length;
  }

  /**
   * Where a chunk of `length` bytes and `count` lines goes: after the last,
   * or at 0 when it does not fit at the end. The oldest chunks in its way go
   * when the rest and it hold `keep` lines (or the store is as big as it may
   * be); otherwise the store grows.
   */
  private place(length: number, count: number): number {
    for (;;) {
      const oldest = this.chunk(0);
      if (!oldest) {
        if (length > this.store.length) this.store = new Uint8Array(Math.max(length, this.store.length * 2));
        return 0;
      }
      const wrapped = this.write <= oldest.at;
      if (wrapped ? this.write + length <= oldest.at : this.write + length <= this.store.length) return this.write;
      if (!wrapped && length <= oldest.at) return 0;
      if (this.store.length >= this.maxBytes || this.lines + count - oldest.count >= this.keep) this.dropOldest(oldest);
      else this.growStore(length);
    }
  }

  /** A bigger store, the chunks copied to its start in order. */
  private growStore(length: number): void {
    const next = new Uint8Array(Math.min(Math.max(this.store.length * 2, this.bytes + length), Math.max(this.maxBytes, length)));
    let at = 0;
    for (let i = 0; i < this.size; i++) {
      const c = this.chunk(i);
      if (!c) continue;
      next.set(this.store.subarray(c.at, c.at + c.length), at);
      c.at = at;
      at += c.length;
    }
    this.store = next;
    this.write = at;
  }

  private growChunks(): void {
    const next: (Chunk | undefined)[] = new Array(this.chunks.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.chunk(i);
    this.chunks = next;
    this.head = 0;
  }
}

/** Where the last `n` lines of `bytes` (lines ending with newlines, more than `n` of them) start. */
function lastLines(bytes: Uint8Array, n: number): number {
  let at = bytes.length - 1;
  for (let i = 0; i < n; i++) at = bytes.lastIndexOf(LF, at - 1);
  return at + 1;
}
