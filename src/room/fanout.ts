/**
 * Room lines on their way to many members. Lines are encoded one after
 * another into one buffer, and each batch goes to each member as one shared
 * chunk: a read that brings a thousand lines costs one send per member, not a
 * thousand. A line not for everyone (a sender does not get its own line back,
 * a newcomer not its own join) is left out of that member's copy only.
 *
 * The room flushes before anything whose order matters (a line to one
 * member, a member joining or leaving) and at the end of each event it
 * handles (a read whose lines are for everyone alike goes out with the rest
 * of the turn's); a batch never waits past the current event-loop turn.
 *
 * While some members take JSON events, each batch has a JSON copy gathered
 * beside it (`json`), with the same lines left out for the same members,
 * sealed and sent with it: a member gets one or the other, in the same order.
 */

import { copyBytes } from "../text/bytes.ts";
import { copyPlainLines, type LinePrefix, type PlainTarget, plainTarget } from "../text/plain-lines.ts";
import { type Exclusion, exclude, FanoutBatch } from "./fanout-batch.ts";
import { PLAIN_LINE_JSON_EXTRA } from "./wire.ts";

/**
 * Sees room lines as queued: `bytes[start, end)`, `lines` whole lines said by
 * `sender`, valid only during the call. It may add their JSON to the batch's
 * JSON copy (`Fanout.json`), and nothing else to the fanout.
 */
export type RelayedLines<Member> = (bytes: Uint8Array, start: number, end: number, lines: number, sender: Member) => void;

/**
 * A batch is sealed at this size, so flow control (checked per send) still
 * acts within a large read; big enough that a whole read (up to 64 KiB of
 * lines, plus names) is one batch: one write per member per read.
 */
export const FANOUT_BATCH_BYTES = 128 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit. */
const UTF8_MAX_PER_UNIT = 3;
const LF = 10;

/** The JSON copy of the batch being gathered. It never sends by itself: the two are sealed together. */
export class JsonLane<Member> {
  buffer = Buffer.allocUnsafe(FANOUT_BATCH_BYTES * 2);
  used = 0;
  private exclusions: Exclusion<Member>[] = [];

  /** Makes room for `most` more bytes (growing, since it cannot send); returns where they go. */
  reserve(most: number): number {
    if (this.used + most > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + most));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    return this.used;
  }

  /** Adds `text` (whole lines with their newlines) for every member but `except` and `hide`. */
  add(text: string, except: Member | undefined, hide?: readonly Member[]): void {
    const at = this.reserve(text.length * UTF8_MAX_PER_UNIT);
    this.added(at, at + this.buffer.write(text, at, "utf8"), except, hide);
  }

  /** What was written from `start` to `end` (after `reserve`) is lines that `except` and `hide` do not get. */
  added(start: number, end: number, except: Member | undefined, hide?: readonly Member[]): void {
    this.used = end;
    exclude(this.exclusions, start, end, except, hide);
  }

  seal(): FanoutBatch<Member> | null {
    if (this.used === 0) return null;
    const batch = new FanoutBatch(new Uint8Array(this.buffer.subarray(0, this.used)), this.exclusions);
    this.used = 0;
    this.exclusions = [];
    // A batch of many short lines may have grown it far: let that go.
    if (this.buffer.length > FANOUT_BATCH_BYTES * 4) this.buffer = Buffer.allocUnsafe(FANOUT_BATCH_BYTES * 2);
    return batch;
  }
}

export class Fanout<Member> {
  private buffer = Buffer.allocUnsafe(FANOUT_BATCH_BYTES * 2);
  /** The buffer for `copyPlainLines`, filled up to about a batch. */
  private target: PlainTarget = plainTarget(this.buffer);
  private used = 0;
  private exclusions: Exclusion<Member>[] = [];
  private scheduled = false;
  /** The JSON copy of the batch, while some members take JSON (see `setJson`). */
  json: JsonLane<Member> | null = null;
  private spareJson: JsonLane<Member> | null = null;

  /** `deliver` sends a sealed batch to every member (see FanoutBatch.for). */
  constructor(private readonly deliver: (batch: FanoutBatch<Member>) => void) {}

  /** Some member gets its own copy of what is gathered (the JSON copy leaves out the same): not gathered across reads. */
  get personal(): boolean {
    return this.exclusions.length > 0;
  }

  /** Gathers a JSON copy of each batch from now on, or stops; what was gathered goes out first. */
  setJson(on: boolean): void {
    if (on === (this.json !== null)) return;
    this.flush();
    if (on) this.json = this.spareJson ??= new JsonLane<Member>();
    else this.json = null;
  }

  /**
   * Queues `text` (a whole line with its newline) for every member but
   * `except` and `hide` (members that ignore its sender), and `json` (its
   * JSON line, newline included) to the JSON copy.
   */
  add(text: string, except?: Member, json?: string, hide?: readonly Member[]): void {
    const start = this.reserve(text.length * UTF8_MAX_PER_UNIT);
    this.used += this.buffer.write(text, start, "utf8");
    if (json !== undefined) this.json?.add(json, except, hide);
    this.added(start, except, hide);
  }

  /**
   * Queues `prefix` + `bytes[start, end)` + a newline, bytes that are already
   * safe to relay as they are (a plain line said in the room by `sender`,
   * who does not get it, nor do `hide`): no string is made or encoded for
   * it. `onLine` sees the whole line as queued.
   */
  addLine(
    prefix: Uint8Array,
    bytes: Uint8Array,
    start: number,
    end: number,
    sender: Member,
    onLine?: RelayedLines<Member>,
    hide?: readonly Member[],
  ): void {
    const at = this.reserve(prefix.length + (end - start) + 1);
    let n = copyBytes(prefix, 0, prefix.length, this.buffer, at);
    n = copyBytes(bytes, start, end, this.buffer, n);
    this.buffer[n] = LF;
    this.used = n + 1;
    onLine?.(this.buffer, at, this.used, 1, sender);
    this.added(at, sender, hide);
  }

  /**
   * Queues the plain lines said at the start of `bytes[start, end)` (see
   * `copyPlainLines`, `saying`), each as `prefix` + line + newline, all at
   * once, for every member but `except` and `hide`; returns where it stopped (`start`
   * when it took none). It stops once the batch is full, so flow control
   * acts between batches as it does between lines; with a JSON copy, once
   * that could be full. `onLines` sees the lines as queued.
   */
  addPlainLines(
    prefix: LinePrefix,
    bytes: Uint8Array,
    start: number,
    end: number,
    maxLine: number,
    except: Member,
    onLines?: RelayedLines<Member>,
    hide?: readonly Member[],
  ): number {
    // Filled to FANOUT_BATCH_BYTES or a little past it, as lines one by one would.
    let limit = FANOUT_BATCH_BYTES + prefix.words.length * 4 + maxLine + 1;
    if (this.json) limit = Math.min(limit, this.used + jsonShare(this.json.used, prefix, maxLine));
    this.target.limit = Math.min(this.buffer.length, limit);
    copyPlainLines(bytes, start, end, maxLine, prefix, this.target, this.used, true);
    const target = this.target;
    if (target.read === start) return start;
    const at = this.used;
    this.used = target.wrote;
    onLines?.(this.buffer, at, this.used, target.lines, except);
    this.added(at, except, hide);
    return target.read;
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

  /** The bytes from `start` to `used` are a line that `except` and `hide` do not get. */
  private added(start: number, except: Member | undefined, hide?: readonly Member[]): void {
    exclude(this.exclusions, start, this.used, except, hide);
    if (this.used >= FANOUT_BATCH_BYTES || (this.json !== null && this.json.used >= FANOUT_BATCH_BYTES)) this.flush();
    else if (!this.scheduled) {
      // One flush at the end of the turn, however many batches were sent before it.
      this.scheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Sends what is gathered. Safe to re-enter: a delivery that broadcasts starts a new batch. */
  flush(): void {
    if (this.used === 0) return;
    // A copy that receivers' queues may keep; the buffer is reused at once.
    const batch = new FanoutBatch(new Uint8Array(this.buffer.subarray(0, this.used)), this.exclusions, this.json?.seal() ?? null);
    this.used = 0;
    this.exclusions = [];
    this.deliver(batch);
  }
}

/**
 * How many bytes of plain lines said with `prefix` to take at once so that
 * their JSON fits in what is left of the JSON copy's batch (a line's JSON
 * takes at most twice its text and PLAIN_LINE_JSON_EXTRA), but at least one
 * line of `maxLine` bytes.
 */
function jsonShare(jsonUsed: number, prefix: LinePrefix, maxLine: number): number {
  const perTextByte = 2 + PLAIN_LINE_JSON_EXTRA / (prefix.bytes.length + 2);
  const oneLine = prefix.words.length * 4 + maxLine + 2;
  return Math.max(oneLine, Math.floor(Math.max(0, FANOUT_BATCH_BYTES - jsonUsed) / perTextByte));
}
