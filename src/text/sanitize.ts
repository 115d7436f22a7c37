/**
 * Makes text safe to print on a terminal or relay to one: C0 and C1 control
 * characters (ESC, BEL, a bare CR that could overwrite a prefix, ...) become
 * visible caret or <U+XXXX> notation, and so do the characters that draw
 * nothing (invisible.ts: format characters such as the bidirectional
 * overrides that can make a line read differently from what it is, zero-width
 * spaces and tags, line and paragraph separators, Hangul fillers), but for a
 * joiner an emoji sequence or a joining script needs. Tab is kept.
 *
 * Two forms with the same result: `decodeLine` (bytes → safe string, for the
 * room, which parses and relays text) and `sanitizeInto` (bytes → safe UTF-8
 * bytes, for printing received lines without building strings at all).
 * `copyPlainLines` is the printer's shortcut for the lines that need neither.
 */
import { copyBytes } from "./bytes.ts";
import { INVISIBLE_RANGES, isInvisible, keptInBytes, keptInText, ZWJ, ZWNJ } from "./invisible.ts";

/**
 * The controls and the BMP's invisible characters (`isInvisible`), the
 * joiners, and the high surrogates of the others: one class, for a fast scan
 * (a `u` regex or alternatives scan at half the speed). A match is then
 * checked: a kept joiner or another character of those planes stays.
 */
const UNSAFE_CLASS = String.raw`[\x00-\x08\x0a-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\ud804\ud80d\ud82f\ud834\udb40]`;
const UNSAFE = new RegExp(UNSAFE_CLASS);
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, "g");

function notation(code: number): string {
  if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
  if (code === 0x7f) return "^?";
  return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
}

/** Notation of codes below U+00A0, made once each when first needed: binary input has many controls per line. */
const LOW_NOTATION: string[] = [];

function visible(code: number): string {
  if (code >= 0xa0) return notation(code);
  let text = LOW_NOTATION[code];
  if (text === undefined) {
    text = notation(code);
    LOW_NOTATION[code] = text;
  }
  return text;
}

/** Makes visible the matches of `UNSAFE_ALL` that are to be. */
function sanitizeMatches(text: string): string {
  let out = "";
  let from = 0;
  UNSAFE_ALL.lastIndex = 0;
  for (let match = UNSAFE_ALL.exec(text); match !== null; match = UNSAFE_ALL.exec(text)) {
    const at = match.index;
    const code = text.codePointAt(at) ?? 0;
    if (code >= 0xa0 && !(isInvisible(code) && !((code === ZWJ || code === ZWNJ) && keptInText(code, text, at)))) continue;
    out += text.slice(from, at) + visible(code);
    from = at + (code > 0xffff ? 2 : 1);
  }
  return from === 0 ? text : out + text.slice(from);
}

export function sanitize(text: string): string {
  return UNSAFE.test(text) ? sanitizeMatches(text) : text;
}

const decoder = new TextDecoder("utf-8");

/** Decodes one complete line (invalid bytes become U+FFFD) and sanitises it. */
export function decodeLine(bytes: Uint8Array): string {
  return sanitize(decoder.decode(bytes));
}

/** Output bytes per input byte at most: a C1 control (2 bytes) becomes `<U+0080>` (8); a 4-byte tag character `<U+E0041>` (9). */
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
/** 1 for the 2-byte characters made visible: C1 controls, U+00AD, U+0600–U+0605, U+061C, U+06DD, U+070F. */
const SHOWN_BELOW_800 = new Uint8Array(0x800).fill(1, 0x80, 0xa0);
/** 1 for each 64-code-point block of the BMP that holds an invisible character: most text skips `isInvisible` with one load. */
const INVISIBLE_BLOCK = new Uint8Array(1024);
// From the ranges, not by asking `isInvisible` of every BMP code point: that loop, at every start, was compiled by the JIT's top tier.
for (let k = 0; k < INVISIBLE_RANGES.length; k += 2) {
  const first = INVISIBLE_RANGES[k] ?? 0;
  const last = Math.min(INVISIBLE_RANGES[k + 1] ?? 0, 0xffff);
  if (first < 0x800) SHOWN_BELOW_800.fill(1, first, Math.min(last + 1, 0x800));
  for (let block = first >> 6; block <= last >> 6; block++) INVISIBLE_BLOCK[block] = 1;
}

/** True when every byte of `bytes[start, end)` is printed as it is (tab and printable ASCII): the line needs no decoding or sanitising. */
export function isPlain(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (PLAIN[bytes[i] ?? 0] !== 1) return false;
  return true;
}

function byteAt(src: Uint8Array, i: number, end: number): number {
  return i < end ? (src[i] ?? 0) : 0;
}

/** Whether the BMP character `cp` at `src[at]` is made visible (`sanitizeInto`'s rare case: a block that has invisible characters). */
function shownAt(src: Uint8Array, start: number, at: number, end: number, cp: number): boolean {
  return isInvisible(cp) && !((cp === ZWJ || cp === ZWNJ) && keptInBytes(cp, src, start, at, end));
}

/** Writes `<U+XXXX>` (5 or 6 hex digits past U+FFFF) at `n`; returns the new end. */
function putNotation(dst: Uint8Array, n: number, cp: number): number {
  dst[n] = 0x3c; // <
  dst[n + 1] = 0x55; // U
  dst[n + 2] = 0x2b; // +
  let shift = cp > 0xfffff ? 20 : cp > 0xffff ? 16 : 12;
  n += 3;
  for (; shift >= 0; shift -= 4) dst[n++] = HEX[(cp >> shift) & 15] ?? 0;
  dst[n] = 0x3e; // >
  return n + 1;
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
        const cp = ((b & 0x1f) << 6) | (c & 0x3f);
        if (SHOWN_BELOW_800[cp] === 1) n = putNotation(dst, n, cp);
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
      if (INVISIBLE_BLOCK[cp >> 6] === 1 && shownAt(src, start, i, end, cp)) n = putNotation(dst, n, cp);
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
    // Past U+FFFF only planes 1 and 14 have invisible characters: U+110BD, U+110CD, U+13430.., U+1BCA0.., U+1D173.., U+E0000...
    if ((b === 0xf0 && (c === 0x91 || c === 0x93 || c === 0x9b || c === 0x9d)) || (b === 0xf3 && c === 0xa0)) {
      const cp = ((b & 0x07) << 18) | ((c & 0x3f) << 12) | ((d & 0x3f) << 6) | (e & 0x3f);
      if (isInvisible(cp)) {
        n = putNotation(dst, n, cp);
        i += 4;
        continue;
      }
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
