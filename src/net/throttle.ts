/**
 * Rate limits on one connection's input, kept by TCP flow control: when a
 * bucket runs dry the connection stops being read (pause reason "rate") and
 * the lines already read wait in its input (LineInput holds them, asked by
 * `out`); when the bucket has a token again, `release` hands them over and
 * reading resumes. Nothing is dropped, nothing is reordered, and the
 * connection is never closed for it.
 */
import type { BulkLineHandler } from "../text/lines.ts";
import type { TokenBucket } from "./bucket.ts";
import type { Conn } from "./conn.ts";

const LF = 0x0a;
/** The longest timer there is (a longer one fires at once): a longer wait is rearmed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Throttle {
  private timer: Timer | null = null;

  constructor(
    private readonly conn: Conn,
    private readonly buckets: readonly TokenBucket[],
    /**
     * The buckets have tokens again: hand over the lines held back (they
     * take their tokens, and may run a bucket dry again). Reading resumes
     * afterwards unless they did.
     */
    private readonly release: () => void,
  ) {
    conn.closed.then(() => this.stop());
  }

  /** A bucket is dry: the connection is not read, and its lines are held until the timer. */
  get out(): boolean {
    return this.timer !== null;
  }

  /** Takes `n` tokens from `bucket` (one of this throttle's); a bucket left dry stops reading. */
  take(bucket: TokenBucket, n = 1): void {
    const now = Date.now();
    bucket.take(n, now);
    if (this.timer === null) this.arm(now);
  }

  /**
   * `bulk` (many lines at once) limited to the whole tokens in `bucket`:
   * it is offered at most that many lines, and takes a token for each it took.
   */
  limitBulk(bucket: TokenBucket, bulk: BulkLineHandler): BulkLineHandler {
    return (bytes, start, end) => {
      const most = bucket.whole(Date.now());
      if (most === 0) return start;
      const took = bulk(bytes, start, afterLines(bytes, start, end, most));
      if (took > start) this.take(bucket, countLines(bytes, start, took));
      return took;
    };
  }

  /** Starts the wait when a bucket is dry. */
  private arm(now: number): void {
    let wait = 0;
    for (const bucket of this.buckets) wait = Math.max(wait, bucket.wait(now));
    if (wait === 0) return;
    this.conn.pause("rate");
    this.timer = setTimeout(this.refilled, Math.min(wait, MAX_TIMER_MS));
  }

  private readonly refilled = () => {
    this.timer = null;
    if (this.conn.isGone) return;
    this.arm(Date.now());
    if (this.timer !== null) return;
    this.release();
    // What was released may have run a bucket dry again: then the connection stays paused.
    if (this.timer === null) this.conn.resume("rate");
  };

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Where the first `most` lines of `bytes[start, end)` end (after their newline), or `end` when there are fewer. */
export function afterLines(bytes: Uint8Array, start: number, end: number, most: number): number {
  let at = start;
  for (let n = 0; n < most; n++) {
    const nl = bytes.indexOf(LF, at);
    if (nl < 0 || nl >= end) return end;
    at = nl + 1;
  }
  return at;
}

/** Newlines in `bytes[start, end)`. */
export function countLines(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let nl = bytes.indexOf(LF, start); nl >= 0 && nl < end; nl = bytes.indexOf(LF, nl + 1)) n++;
  return n;
}
