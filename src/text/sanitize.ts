/**
 * Makes text safe to print on a terminal or relay to one: C0 and C1 control
 * characters (ESC, BEL, a bare CR that could overwrite a prefix, ...) become
 * visible caret or <U+XXXX> notation, and so do the bidirectional overrides
 * that can make a line read differently from what it is. Tab is kept.
 *
 * Two forms with the same result: `decodeLine` (bytes → safe string, for the
 * room, which parses and relays text) and `sanitizeInto` (bytes → safe UTF-8
 * bytes, for printing received lines without building strings at all).
 * `copyPlainLines` is the printer's shortcut for the lines that need neither.
 */
import { copyBytes } from "./bytes.ts";

const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

function notation(code: number): string {
  if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
  if (code === 0x7f) return "^?";
  return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
}

/** Notation of codes below U+00A0, made once each when first needed: binary input has many controls per line. */
const LOW_NOTATION: string[] = [];

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code >= 0xa0) return notation(code);
  let text = LOW_NOTATION[code];
  if (text === undefined) {
    text = notation(code);
    LOW_NOTATION[code] = text;
  }
  return text;
}

export function sanitize(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, visible) : text;
}

const decoder = new TextDecoder("utf-8");

/** Decodes one complete line (invalid bytes become U+FFFD) and sanitises it. */
export function decodeLine(bytes: Uint8Array): string {
  return sanitize(decoder.decode(bytes));
}

/** Output bytes per input byte at most: a C1 control (2 bytes) becomes `<U+0080>` (8). */
export const SANITIZE_GROWTH = 4;

/** Bytes printed as they are: tab and printable ASCII. */
const PLAIN = new Uint8Array(256);
/**
 * For a byte that is a whole character by itself: its output (up to 3 bytes)
 * and length. Plain ASCII is itself, C0 and DEL are caret notation, bytes that
 * can never start a UTF-8 character are U+FFFD. Lead bytes of multi-byte
 * characters have length 0. A table instead of branches: random binary
 * mispredicts nearly every branch on the byte's class.
 */
const SINGLE_LEN = new Uint8Array(256);
const OUT0 = new Uint8Array(256);
const OUT1 = new Uint8Array(256);
const OUT2 = new Uint8Array(256);
// Plain loops: these run at every start of the program, before it listens.
for (let b = 0; b < 256; b++) {
  if (b === 0x09 || (b >= 0x20 && b < 0x7f)) {
    PLAIN[b] = 1;
    SINGLE_LEN[b] = 1;
    OUT0[b] = b;
  } else if (b < 0x20 || b === 0x7f) {
    SINGLE_LEN[b] = 2;
    OUT0[b] = 0x5e; // ^
    OUT1[b] = b === 0x7f ? 0x3f : b + 64;
  } else if (b < 0xc2 || b > 0xf4) {
    // Never the start of a UTF-8 character: U+FFFD.
    SINGLE_LEN[b] = 3;
    OUT0[b] = 0xef;
    OUT1[b] = 0xbf;
    OUT2[b] = 0xbd;
  }
}
const HEX = new TextEncoder().encode("0123456789ABCDEF");

/** True when every byte of `bytes[start, end)` is printed as it is (tab and printable ASCII): the line needs no decoding or sanitising. */
export function isPlain(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (PLAIN[bytes[i] ?? 0] !== 1) return false;
  return true;
}

function byteAt(src: Uint8Array, i: number, end: number): number {
  return i < end ? (src[i] ?? 0) : 0;
}

function isBidiControl(cp: number): boolean {
  return cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/** Writes `<U+XXXX>` at `n`; returns the new end. */
function putNotation(dst: Uint8Array, n: number, cp: number): number {
  dst[n] = 0x3c; // <
  dst[n + 1] = 0x55; // U
  dst[n + 2] = 0x2b; // +
  dst[n + 3] = HEX[(cp >> 12) & 15] ?? 0;
  dst[n + 4] = HEX[(cp >> 8) & 15] ?? 0;
  dst[n + 5] = HEX[(cp >> 4) & 15] ?? 0;
  dst[n + 6] = HEX[cp & 15] ?? 0;
  dst[n + 7] = 0x3e; // >
  return n + 8;
}

function putReplacement(dst: Uint8Array, n: number): number {
  dst[n] = 0xef;
  dst[n + 1] = 0xbf;
  dst[n + 2] = 0xbd;
  return n + 3;
}

/**
 * Writes the sanitised UTF-8 of one line, `src[start, end)`, at `dst[at]` and
 * returns the new end: the same bytes as UTF-8-encoding `decodeLine` of that
 * line, i.e. the WHATWG decoder (one U+FFFD per maximal invalid subsequence, a
 * leading BOM dropped) followed by `sanitize`. `dst` needs room for
 * `(end - start) * SANITIZE_GROWTH` bytes.
 * One pass over bytes and no strings: printing random binary at network speed
 * is bounded by this loop, so it is one function (calls cost here).
 */
export function sanitizeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let i = start;
  // Text is usually all plain: one scan, then one copy.
  while (i < end && PLAIN[src[i] ?? 0] === 1) i++;
  let n = copyBytes(src, start, i, dst, at);
  if (i === end) return n;
  // TextDecoder drops a byte-order mark at the start of each line it decodes.
  if (i === start && end - start >= 3 && src[i] === 0xef && src[i + 1] === 0xbb && src[i + 2] === 0xbf) i += 3;
  while (i < end) {
    const b = src[i] ?? 0;
    const len = SINGLE_LEN[b] ?? 0;
    if (len !== 0) {
      dst[n] = OUT0[b] ?? 0;
      dst[n + 1] = OUT1[b] ?? 0;
      dst[n + 2] = OUT2[b] ?? 0;
      n += len;
      i++;
      continue;
    }
    // A multi-byte form. Past the line's end reads as 0, a non-continuation
    // byte, so a truncated character is one U+FFFD like any invalid prefix.
    const c = byteAt(src, i + 1, end);
    if (b < 0xe0) {
      if ((c & 0xc0) !== 0x80) {
        n = putReplacement(dst, n);
        i++;
      } else {
        if (b === 0xc2 && c < 0xa0) n = putNotation(dst, n, c);
        else {
          dst[n] = b;
          dst[n + 1] = c;
          n += 2;
        }
        i += 2;
      }
      continue;
    }
    // The second byte's range depends on the lead: no overlong forms, surrogates or code points past U+10FFFF.
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (c < low || c > high) {
      n = putReplacement(dst, n);
      i++;
      continue;
    }
    const d = byteAt(src, i + 2, end);
    if ((d & 0xc0) !== 0x80) {
      n = putReplacement(dst, n);
      i += 2;
      continue;
    }
    if (b < 0xf0) {
      const cp = ((b & 0x0f) << 12) | ((c & 0x3f) << 6) | (d & 0x3f);
      if (isBidiControl(cp)) n = putNotation(dst, n, cp);
      else {
        dst[n] = b;
        dst[n + 1] = c;
        dst[n + 2] = d;
        n += 3;
      }
      i += 3;
      continue;
    }
    const e = byteAt(src, i + 3, end);
    if ((e & 0xc0) !== 0x80) {
      n = putReplacement(dst, n);
      i += 3;
      continue;
    }
    dst[n] = b;
    dst[n + 1] = c;
    dst[n + 2] = d;
    dst[n + 3] = e;
    n += 4;
    i += 4;
  }
  return n;
}

const LF = 0x0a;
const CR = 0x0d;

/** What goes before each printed line (`PEER: `), as bytes and as 4-byte words (zero-padded) for `copyPlainLines`. */
export interface LinePrefix {
  bytes: Uint8Array;
  words: Int32Array;
}

export function linePrefix(text: string): LinePrefix {
  const bytes = new TextEncoder().encode(text);
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
 * more than checking the line.
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
