/**
 * Splits a byte stream into lines on `\n`, dropping one trailing `\r` (CRLF from
 * telnet and Windows clients). A line longer than `maxLine` bytes is cut at the
 * limit, on a UTF-8 character boundary, and the rest of it is skipped without
 * being stored, so memory stays bounded however long a "line" a peer sends.
 *
 * Lines are handed over as bytes; `\n` never occurs inside a UTF-8 multi-byte
 * character, so decoding each complete line keeps characters split across TCP
 * reads intact.
 *
 * `LineFramer` hands over each line as a range of a buffer (no allocation per
 * line or per chunk: a busy echo server frames every byte it receives);
 * `LineSplitter` hands over each line as its own view.
 */
import { copyBytes } from "./bytes.ts";

/** A line: `bytes[start, end)`, valid only during the call (the buffer is reused). */
export type LineRangeHandler = (bytes: Uint8Array, start: number, end: number, cut: boolean) => void;
/**
 * Takes over whole lines at the start of `bytes[start, end)` at once (a
 * printer's fast path for plain text); returns where it stopped, `start`
 * when it took none.
 */
export type BulkLineHandler = (bytes: Uint8Array, start: number, end: number) => number;
/** A line as a view, valid only during the call. */
export type LineHandler = (line: Uint8Array, cut: boolean) => void;

const LF = 10;
const CR = 13;
/** An unfinished line's buffer starts this small and doubles as needed (up to maxLine). */
const HELD_MIN_BYTES = 256;
/** A held buffer bigger than this is let go once its line is done, so idle clients hold little. */
const HELD_KEEP_BYTES = 1024;
const EMPTY = new Uint8Array(0);

export class LineFramer {
  private held: Uint8Array = EMPTY;
  private heldLength = 0;
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: LineRangeHandler,
    /** Offered the lines ahead whenever no line is part-way; the rest go to `onLine`. `hold` is asked after each bulk too. */
    private readonly bulk?: BulkLineHandler,
  ) {}

  /**
   * Feeds `bytes[start, end)`; calls the handler for every line it completes.
   * When `hold` (asked after each line) says stop, returns where it stopped:
   * the caller keeps the rest and feeds it again later. Otherwise returns `end`.
   */
  push(bytes: Uint8Array, start = 0, end = bytes.length, hold?: () => boolean): number {
    let at = start;
    while (at < end) {
      if (this.bulk && this.heldLength === 0 && !this.skipping) {
        const took = this.bulk(bytes, at, end);
        if (took > at) {
          at = took;
          if (at >= end) return end;
          if (hold?.()) return at;
        }
      }
      let nl = bytes.indexOf(LF, at);
      if (nl >= end) nl = -1;
      const stop = nl < 0 ? end : nl;
      if (this.skipping) {
        if (nl < 0) return end;
        this.skipping = false;
        at = nl + 1;
        continue;
      }
      if (this.heldLength + (stop - at) > this.maxLine) {
        this.cut(bytes, at, at + this.maxLine - this.heldLength);
        if (nl < 0) {
          this.skipping = true;
          return end;
        }
      } else if (nl < 0) {
        this.hold(bytes, at, end);
        return end;
      } else {
        this.emit(bytes, at, nl);
      }
      at = nl + 1;
      if (hold?.()) return at;
    }
    return end;
  }

  /** Emits a final line that had no newline (the peer closed). */
  flush(): void {
    if (this.heldLength > 0) this.emit(EMPTY, 0, 0);
    this.skipping = false;
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.heldLength;
  }

  private hold(bytes: Uint8Array, start: number, end: number): void {
    const need = this.heldLength + end - start;
    if (need > this.held.length) {
      // need <= maxLine always: longer lines are cut before they are held.
      const grown = new Uint8Array(Math.min(Math.max(HELD_MIN_BYTES, this.held.length * 2, need), this.maxLine));
      grown.set(this.held.subarray(0, this.heldLength));
      this.held = grown;
    }
    this.heldLength = copyBytes(bytes, start, end, this.held, this.heldLength);
  }

  /** Ends the held line with `bytes[start, end)`; returns its whole length, in `this.held`. */
  private takeHeld(bytes: Uint8Array, start: number, end: number): number {
    this.hold(bytes, start, end);
    const length = this.heldLength;
    this.heldLength = 0;
    return length;
  }

  /** Lets a big held buffer go once its line has been handed over. */
  private release(line: Uint8Array): void {
    if (line === this.held && line.length > HELD_KEEP_BYTES) this.held = EMPTY;
  }

  private emit(bytes: Uint8Array, start: number, end: number): void {
    let line = bytes;
    let from = start;
    let to = end;
    if (this.heldLength > 0) {
      to = this.takeHeld(bytes, start, end);
      line = this.held;
      from = 0;
    }
    if (to > from && line[to - 1] === CR) to--;
    this.onLine(line, from, to, false);
    this.release(line);
  }

  private cut(bytes: Uint8Array, start: number, end: number): void {
    let line = bytes;
    let from = start;
    let to = end;
    if (this.heldLength > 0) {
      to = this.takeHeld(bytes, start, end);
      line = this.held;
      from = 0;
    }
    this.onLine(line, from, utf8Boundary(line, from, to), true);
    this.release(line);
  }
}

/** `LineFramer` with each line as its own view (for callers that want a Uint8Array). */
export class LineSplitter {
  private readonly framer: LineFramer;

  constructor(maxLine: number, onLine: LineHandler) {
    this.framer = new LineFramer(maxLine, (bytes, start, end, cut) => onLine(bytes.subarray(start, end), cut));
  }

  /**
   * Feeds a chunk; calls the handler for every line it completes. When `hold`
   * (asked after each line) says stop, returns the bytes not framed yet (a
   * view of `chunk`); otherwise an empty array.
   */
  push(chunk: Uint8Array, hold?: () => boolean): Uint8Array {
    const at = this.framer.push(chunk, 0, chunk.length, hold);
    return at === chunk.length ? EMPTY : chunk.subarray(at);
  }

  /** Emits a final line that had no newline (the peer closed). */
  flush(): void {
    this.framer.flush();
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.framer.pending;
  }
}

/** The end of the longest prefix of `bytes[start, end)` that does not end inside a UTF-8 character. */
export function utf8Boundary(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let lead = end - 1;
  // Continuation bytes are 10xxxxxx; a character has at most 3 of them.
  while (lead > start && end - lead <= 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  const first = bytes[lead] ?? 0;
  const size = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead >= start && lead + size > end ? lead : end;
}
