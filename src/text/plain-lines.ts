/**
 * The fast path of printing and relaying received text: whole lines that are
 * plain (tab and printable ASCII) need no decoding or sanitising, so they are
 * copied as they are, each behind its prefix (`PEER: ` or `NAME: `), many
 * lines per call and 4 bytes checked at a time. What is not plain is left for
 * the general path (sanitize.ts), which would write the same bytes.
 */
import { copyBytes } from "./bytes.ts";
import { PLAIN } from "./sanitize.ts";

const LF = 0x0a;
const CR = 0x0d;

/** What goes before each printed line (`PEER: `), as bytes and as 4-byte words (zero-padded) for `copyPlainLines`. */
export interface LinePrefix {
  bytes: Uint8Array;
  words: Int32Array;
}

const encoder = new TextEncoder();

export function linePrefix(text: string): LinePrefix {
  const bytes = encoder.encode(text);
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return { bytes, words };
}

/**
 * An Int32Array over the last source's whole buffer, so 4 bytes are read and
 * checked at once (it keeps that one buffer alive until the next source).
 */
let wordsOf: ArrayBufferLike | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordsFor(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  if (buffer !== wordsOf) {
    wordsOf = buffer;
    words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }
  return words;
}

/** First bytes of a line `copyPlainLines` relays as said text: printable ASCII but blank and `/`. */
const SAYING_START = new Uint8Array(256);
for (let b = 0x21; b < 0x7f; b++) SAYING_START[b] = b === 0x2f ? 0 : 1;

/** Bytes left in the input below which `copyPlainLines` reads byte by byte. */
const WORDS_MIN = 256;

/** Nonzero when one of the 4 bytes of `w` is below 0x20 or 0x7F and above: not plain, or a line end. */
function hasSpecial(w: number): number {
  return (((w - 0x20202020) & ~w) | w | (w + 0x01010101)) & 0x80808080;
}

/**
 * Where plain lines go for `copyPlainLines`: a buffer, a DataView of it (for
 * the prefix's words), and how far it may be filled; and, after each call,
 * where it stopped: the input it consumed up to (`read`), the end of what it
 * wrote (`wrote`) and how many lines it copied (a room numbers them). The
 * caller's own object, reused: no result is allocated per call.
 */
export interface PlainTarget {
  dst: Uint8Array;
  view: DataView;
  limit: number;
  read: number;
  wrote: number;
  lines: number;
}

export function plainTarget(dst: Uint8Array, limit = dst.length): PlainTarget {
  return { dst, view: new DataView(dst.buffer, dst.byteOffset, dst.byteLength), limit, read: 0, wrote: 0, lines: 0 };
}

/**
 * The fast path of printing received text: copies whole lines of
 * `src[start, end)` that are plain (tab and printable ASCII only, at most
 * `maxLine` bytes, CRLF or LF ended) to `target.dst` from `at` on, each as the
 * prefix + line + LF, which is what framing the lines and printing each with
 * `sanitizeInto` would write. Stops before the first line that is not plain
 * or not complete, or when what is left of `dst` up to `target.limit` might
 * not hold a line of `maxLine` bytes; says where in `target`. Checks 4 bytes at a
 * time and makes no call per line but one native copy: a call per line cost
 * more than checking the line. So it is one function on purpose (the hot
 * loop of printing and relaying text), a little over the usual length.
 *
 * `saying`: for a room, which relays a line as it is only when it is said
 * text: it also stops before a line that is empty, starts with a blank (it
 * may be all blanks) or starts with `/` (a command).
 */
export function copyPlainLines(
  src: Uint8Array,
  start: number,
  end: number,
  maxLine: number,
  prefix: LinePrefix,
  target: PlainTarget,
  at: number,
  saying = false,
): void {
  const { dst, view, limit } = target;
  const base = src.byteOffset;
  const prefixWords = prefix.words;
  const prefixLength = prefix.bytes.length;
  const prefixRoom = prefixWords.length * 4;
  let all: Int32Array<ArrayBufferLike> | null = null;
  let i = start;
  let n = at;
  let lineIn = start;
  let lineOut = at;
  let count = 0;
  lines: for (;;) {
    lineIn = i;
    lineOut = n;
    // A plain line's LF is at most maxLine bytes on; past that (or the input) it is not plain here.
    const scanEnd = Math.min(end, i + maxLine + 1);
    // Room for the prefix's padding too; the line's bytes overwrite it.
    if (i >= end || limit - n < prefixRoom + (scanEnd - i) + 1) break;
    if (saying && !SAYING_START[src[i] ?? 0]) break;
    for (let k = 0; k < prefixWords.length; k++) view.setInt32(n + 4 * k, prefixWords[k] ?? 0, true);
    n += prefixLength;
    for (;;) {
      // Words once the line has shown itself text and enough is left to pay for
      // the view (reading `buffer` can move a small array's bytes out of the heap).
      if (((base + i) & 3) === 0 && i - lineIn >= 8 && end - i >= WORDS_MIN) {
        all ??= wordsFor(src.buffer);
        let w = (base + i) >> 2;
        const wordsEnd = (base + scanEnd) >> 2;
        while (w < wordsEnd && hasSpecial(all[w] ?? 0) === 0) w++;
        i = (w << 2) - base;
      }
      if (i >= scanEnd) break lines;
      const b = src[i] ?? 0;
      if (PLAIN[b] === 1) {
        i++;
        continue;
      }
      const nl = b === LF ? i : b === CR && i + 1 < end && src[i + 1] === LF ? i + 1 : -1;
      if (nl < 0 || nl - lineIn > maxLine) break lines;
      n = copyBytes(src, lineIn, i, dst, n);
      dst[n++] = LF;
      i = nl + 1;
      count++;
      continue lines;
    }
  }
  // The line being copied when it stopped is left for the general path.
  target.read = lineIn;
  target.wrote = lineOut;
  target.lines = count;
}
