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

/** Bytes printed as they are: tab and printable ASCII (1), the rest (0). */
export const PLAIN = new Uint8Array(256);
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
