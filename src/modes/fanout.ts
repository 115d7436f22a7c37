/**
 * Room lines on their way to many members. Lines are encoded one after
 * another into one buffer, and each batch goes to each member as one shared
 * chunk: a read that brings a thousand lines costs one send per member, not a
 * thousand. A line not for everyone (a sender does not get its own line back,
 * a newcomer not its own join) is left out of that member's copy only.
 *
 * The room flushes before anything whose order matters (a line to one
 * member, a member joining or leaving) and at the end of each event it
 * handles; a batch never waits past the current event-loop turn.
 */
import { copyBytes } from "../text/bytes.ts";
import { copyPlainLines, type LinePrefix, type PlainTarget, plainSpan, plainTarget } from "../text/sanitize.ts";
import type { RawWriter } from "./mode.ts";

/**
 * A batch is sealed at this size, so flow control (checked per send) still
 * acts within a large read; big enough that a whole read (up to 64 KiB of
 * lines, plus names) is one batch: one write per member per read.
 */
export const FANOUT_BATCH_BYTES = 128 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit. */
const UTF8_MAX_PER_UNIT = 3;
const LF = 10;

/** A line of the batch that one member does not get. */
interface Exclusion<Member> {
  member: Member;
  start: number;
  end: number;
}

/** A sealed batch: the same chunk for everyone, or a member's own copy without its exclusions. */
export class FanoutBatch<Member> {
  private byMember: Map<Member, Exclusion<Member>[]> | null = null;

  constructor(
    readonly bytes: Uint8Array,
    private readonly exclusions: Exclusion<Member>[],
  ) {}

  /** What `member` gets; null when every line is excluded for it. */
  for(member: Member): Uint8Array | null {
    if (this.exclusions.length === 0) return this.bytes;
    this.byMember ??= group(this.exclusions);
    const own = this.byMember.get(member);
    return own ? without(this.bytes, own) : this.bytes;
  }
}

function group<Member>(exclusions: Exclusion<Member>[]): Map<Member, Exclusion<Member>[]> {
  const map = new Map<Member, Exclusion<Member>[]>();
  for (const e of exclusions) {
    const list = map.get(e.member);
    if (list) list.push(e);
    else map.set(e.member, [e]);
  }
  return map;
}

/** `bytes` without the given ranges (in order); null when nothing is left. */
function without<Member>(bytes: Uint8Array, ranges: Exclusion<Member>[]): Uint8Array | null {
  const left = ranges.reduce((size, r) => size - (r.end - r.start), bytes.length);
  if (left === 0) return null;
  const out = new Uint8Array(left);
  let at = 0;
  let from = 0;
  for (const r of ranges) {
    out.set(bytes.subarray(from, r.start), at);
    at += r.start - from;
    from = r.end;
  }
  out.set(bytes.subarray(from), at);
  return out;
}

export class Fanout<Member> {
  private buffer = Buffer.allocUnsafe(FANOUT_BATCH_BYTES * 2);
  /** The buffer for `copyPlainLines`, filled up to about a batch. */
  private target: PlainTarget = plainTarget(this.buffer);
  private used = 0;
  private exclusions: Exclusion<Member>[] = [];
  private scheduled = false;

  /** `deliver` sends a sealed batch to every member (see FanoutBatch.for). */
  constructor(private readonly deliver: (batch: FanoutBatch<Member>) => void) {}

  /** Queues `text` (a whole line with its newline) for every member but `except`. */
  add(text: string, except?: Member): void {
    const start = this.reserve(text.length * UTF8_MAX_PER_UNIT);
    this.used += this.buffer.write(text, start, "utf8");
    this.added(start, except);
  }

  /**
   * Queues `prefix` + `bytes[start, end)` + a newline, bytes that are already
   * safe to relay as they are (a plain line said in the room): no string is
   * made or encoded for it. `onLine` sees the whole line as queued, valid
   * only during the call.
   */
  addLine(prefix: Uint8Array, bytes: Uint8Array, start: number, end: number, except?: Member, onLine?: RawWriter): void {
    const at = this.reserve(prefix.length + (end - start) + 1);
    let n = copyBytes(prefix, 0, prefix.length, this.buffer, at);
    n = copyBytes(bytes, start, end, this.buffer, n);
    this.buffer[n] = LF;
    this.used = n + 1;
    onLine?.(this.buffer, at, this.used);
    this.added(at, except);
  }

  /**
   * Queues the plain lines said at the start of `bytes[start, end)` (see
   * `copyPlainLines`, `saying`), each as `prefix` + line + newline, all at
   * once, for every member but `except`; returns where it stopped (`start`
   * when it took none). It stops once the batch is full, so flow control
   * acts between batches as it does between lines. `onLines` sees the lines
   * as queued, valid only during the call.
   */
  addPlainLines(
    prefix: LinePrefix,
    bytes: Uint8Array,
    start: number,
    end: number,
    maxLine: number,
    except: Member,
    onLines?: RawWriter,
  ): number {
    // Filled to FANOUT_BATCH_BYTES or a little past it, as lines one by one would.
    this.target.limit = Math.min(this.buffer.length, FANOUT_BATCH_BYTES + prefix.words.length * 4 + maxLine + 1);
    copyPlainLines(bytes, start, end, maxLine, prefix, this.target, this.used, true);
    if (plainSpan.read === start) return start;
    const at = this.used;
    this.used = plainSpan.wrote;
    onLines?.(this.buffer, at, this.used);
    this.added(at, except);
    return plainSpan.read;
  }

  /** Makes room for `most` bytes; returns where they go. */
  private reserve(most: number): number {
    if (this.used + most > this.buffer.length) this.flush();
    if (most > this.buffer.length) {
      this.buffer = Buffer.allocUnsafe(most);
      this.target = plainTarget(this.buffer);
    }
    return this.used;
  }

  /** The bytes from `start` to `used` are a line that `except` does not get. */
  private added(start: number, except: Member | undefined): void {
    if (except !== undefined) {
      // A sender's lines one after another are one range to leave out.
      const last = this.exclusions[this.exclusions.length - 1];
      if (last && last.member === except && last.end === start) last.end = this.used;
      else this.exclusions.push({ member: except, start, end: this.used });
    }
    if (this.used >= FANOUT_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is gathered. Safe to re-enter: a delivery that broadcasts starts a new batch. */
  flush(): void {
    this.scheduled = false;
    if (this.used === 0) return;
    // A copy that receivers' queues may keep; the buffer is reused at once.
    const batch = new FanoutBatch(new Uint8Array(this.buffer.subarray(0, this.used)), this.exclusions);
    this.used = 0;
    this.exclusions = [];
    this.deliver(batch);
  }
}
