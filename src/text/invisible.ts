/**
 * The characters that draw nothing and that the sanitiser (sanitize.ts) makes
 * visible beside the controls, and the one exception: a joiner where a script
 * or an emoji sequence needs it. Code point ranges, not `\p{...}` regexes, so
 * that both of the sanitiser's forms and scripts/bench-print.c say the same
 * whatever Unicode version the engine has.
 *
 * Made visible: every format character (Cf: U+00AD, U+0600–U+0605, U+061C,
 * U+06DD, U+070F, U+0890–U+0891, U+08E2, U+180E, U+200B–U+200F, U+202A–U+202E,
 * U+2060–U+206F, U+FEFF, U+FFF9–U+FFFB, U+110BD, U+110CD, U+13430–U+1343F,
 * U+1BCA0–U+1BCA3, U+1D173–U+1D17A, U+E0000–U+E007F), the line and paragraph
 * separators U+2028 and U+2029, and the Hangul fillers U+115F, U+1160, U+3164,
 * U+FFA0 (letters with no ink).
 *
 * Kept: a ZWNJ (U+200C) or ZWJ (U+200D) between two joining-script
 * characters (`isJoiningLetter`: Arabic, Syriac and the Indic blocks), and a
 * ZWJ between two emoji (Extended_Pictographic; before it, variation
 * selectors and skin tones may follow the emoji, as in 🏳️‍🌈 or 🧑🏽‍💻).
 * `keptInText` and `keptInBytes` find a joiner's neighbours for each form:
 * the same code points (the decoder's U+FFFD for invalid bytes), so the same
 * answer.
 */

export const ZWNJ = 0x200c;
export const ZWJ = 0x200d;

/** The code points `isInvisible` says yes to, as inclusive ranges (sanitize.ts builds its tables from them). */
export const INVISIBLE_RANGES = [
  0xad, 0xad, 0x600, 0x605, 0x61c, 0x61c, 0x6dd, 0x6dd, 0x70f, 0x70f, 0x890, 0x891, 0x8e2, 0x8e2, 0x115f, 0x1160, 0x180e, 0x180e, 0x200b,
  0x200f, 0x2028, 0x202e, 0x2060, 0x206f, 0x3164, 0x3164, 0xfeff, 0xfeff, 0xffa0, 0xffa0, 0xfff9, 0xfffb, 0x110bd, 0x110bd, 0x110cd,
  0x110cd, 0x13430, 0x1343f, 0x1bca0, 0x1bca3, 0x1d173, 0x1d17a, 0xe0000, 0xe007f,
];

/** True for a code point of U+00A0 or above that is made visible (the caller checks the joiners' exception). */
export function isInvisible(cp: number): boolean {
  if (cp < 0x2000) {
    return (
      cp === 0xad ||
      (cp >= 0x600 && cp <= 0x605) ||
      cp === 0x61c ||
      cp === 0x6dd ||
      cp === 0x70f ||
      cp === 0x890 ||
      cp === 0x891 ||
      cp === 0x8e2 ||
      cp === 0x115f ||
      cp === 0x1160 ||
      cp === 0x180e
    );
  }
  if (cp < 0x3000) return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f);
  if (cp < 0x10000) return cp === 0x3164 || cp === 0xfeff || cp === 0xffa0 || (cp >= 0xfff9 && cp <= 0xfffb);
  return (
    cp === 0x110bd ||
    cp === 0x110cd ||
    (cp >= 0x13430 && cp <= 0x1343f) ||
    (cp >= 0x1bca0 && cp <= 0x1bca3) ||
    (cp >= 0x1d173 && cp <= 0x1d17a) ||
    (cp >= 0xe0000 && cp <= 0xe007f)
  );
}

/**
 * A character of a script that joins with ZWNJ/ZWJ: the Arabic (U+0600–U+06FF,
 * U+0750–U+077F, U+0870–U+08FF, U+FB50–U+FDFF, U+FE70–U+FEFE), Syriac
 * (U+0700–U+074F, U+0860–U+086F) and Indic (U+0900–U+0DFF: Devanagari to
 * Sinhala; U+A8E0–U+A8FF) blocks, but not their format characters.
 */
export function isJoiningLetter(cp: number): boolean {
  const inBlock =
    (cp >= 0x600 && cp <= 0x77f) ||
    (cp >= 0x860 && cp <= 0xdff) ||
    (cp >= 0xa8e0 && cp <= 0xa8ff) ||
    (cp >= 0xfb50 && cp <= 0xfdff) ||
    (cp >= 0xfe70 && cp <= 0xfefe);
  return inBlock && !isInvisible(cp);
}

/** What may stand between an emoji and its ZWJ: variation selectors and skin tones. */
export function isEmojiExtend(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1f3fb && cp <= 0x1f3ff);
}

/** Extended_Pictographic (Unicode 16), as inclusive ranges. */
const PICTOGRAPHIC = [
  0xa9, 0xa9, 0xae, 0xae, 0x203c, 0x203c, 0x2049, 0x2049, 0x2122, 0x2122, 0x2139, 0x2139, 0x2194, 0x2199, 0x21a9, 0x21aa, 0x231a, 0x231b,
  0x2328, 0x2328, 0x23cf, 0x23cf, 0x23e9, 0x23f3, 0x23f8, 0x23fa, 0x24c2, 0x24c2, 0x25aa, 0x25ab, 0x25b6, 0x25b6, 0x25c0, 0x25c0, 0x25fb,
  0x25fe, 0x2600, 0x2604, 0x260e, 0x260e, 0x2611, 0x2611, 0x2614, 0x2615, 0x2618, 0x2618, 0x261d, 0x261d, 0x2620, 0x2620, 0x2622, 0x2623,
  0x2626, 0x2626, 0x262a, 0x262a, 0x262e, 0x262f, 0x2638, 0x263a, 0x2640, 0x2640, 0x2642, 0x2642, 0x2648, 0x2653, 0x265f, 0x2660, 0x2663,
  0x2663, 0x2665, 0x2666, 0x2668, 0x2668, 0x267b, 0x267b, 0x267e, 0x267f, 0x2692, 0x2697, 0x2699, 0x2699, 0x269b, 0x269c, 0x26a0, 0x26a1,
  0x26a7, 0x26a7, 0x26aa, 0x26ab, 0x26b0, 0x26b1, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26c8, 0x26c8, 0x26ce, 0x26cf, 0x26d1, 0x26d1, 0x26d3,
  0x26d4, 0x26e9, 0x26ea, 0x26f0, 0x26f5, 0x26f7, 0x26fa, 0x26fd, 0x26fd, 0x2702, 0x2702, 0x2705, 0x2705, 0x2708, 0x270d, 0x270f, 0x270f,
  0x2712, 0x2712, 0x2714, 0x2714, 0x2716, 0x2716, 0x271d, 0x271d, 0x2721, 0x2721, 0x2728, 0x2728, 0x2733, 0x2734, 0x2744, 0x2744, 0x2747,
  0x2747, 0x274c, 0x274c, 0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2763, 0x2764, 0x2795, 0x2797, 0x27a1, 0x27a1, 0x27b0, 0x27b0,
  0x27bf, 0x27bf, 0x2934, 0x2935, 0x2b05, 0x2b07, 0x2b1b, 0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x3030, 0x3030, 0x303d, 0x303d, 0x3297,
  0x3297, 0x3299, 0x3299, 0x1f004, 0x1f004, 0x1f02c, 0x1f02f, 0x1f094, 0x1f09f, 0x1f0af, 0x1f0b0, 0x1f0c0, 0x1f0c0, 0x1f0cf, 0x1f0d0,
  0x1f0f6, 0x1f0ff, 0x1f170, 0x1f171, 0x1f17e, 0x1f17f, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a, 0x1f1ae, 0x1f1e5, 0x1f201, 0x1f20f, 0x1f21a,
  0x1f21a, 0x1f22f, 0x1f22f, 0x1f232, 0x1f23a, 0x1f23c, 0x1f23f, 0x1f249, 0x1f25f, 0x1f266, 0x1f321, 0x1f324, 0x1f393, 0x1f396, 0x1f397,
  0x1f399, 0x1f39b, 0x1f39e, 0x1f3f0, 0x1f3f3, 0x1f3f5, 0x1f3f7, 0x1f3fa, 0x1f400, 0x1f4fd, 0x1f4ff, 0x1f53d, 0x1f549, 0x1f54e, 0x1f550,
  0x1f567, 0x1f56f, 0x1f570, 0x1f573, 0x1f57a, 0x1f587, 0x1f587, 0x1f58a, 0x1f58d, 0x1f590, 0x1f590, 0x1f595, 0x1f596, 0x1f5a4, 0x1f5a5,
  0x1f5a8, 0x1f5a8, 0x1f5b1, 0x1f5b2, 0x1f5bc, 0x1f5bc, 0x1f5c2, 0x1f5c4, 0x1f5d1, 0x1f5d3, 0x1f5dc, 0x1f5de, 0x1f5e1, 0x1f5e1, 0x1f5e3,
  0x1f5e3, 0x1f5e8, 0x1f5e8, 0x1f5ef, 0x1f5ef, 0x1f5f3, 0x1f5f3, 0x1f5fa, 0x1f64f, 0x1f680, 0x1f6c5, 0x1f6cb, 0x1f6d2, 0x1f6d5, 0x1f6e5,
  0x1f6e9, 0x1f6e9, 0x1f6eb, 0x1f6f0, 0x1f6f3, 0x1f6ff, 0x1f7da, 0x1f7ff, 0x1f80c, 0x1f80f, 0x1f848, 0x1f84f, 0x1f85a, 0x1f85f, 0x1f888,
  0x1f88f, 0x1f8ae, 0x1f8af, 0x1f8bc, 0x1f8bf, 0x1f8c2, 0x1f8cf, 0x1f8d9, 0x1f8ff, 0x1f90c, 0x1f93a, 0x1f93c, 0x1f945, 0x1f947, 0x1f9ff,
  0x1fa58, 0x1fa5f, 0x1fa6e, 0x1faff, 0x1fc00, 0x1fffd,
];

/** Extended_Pictographic as a table of U+2000–U+3FFF and U+1F000–U+1FFFF (all of it but U+00A9 and U+00AE): a ZWJ in an emoji sequence asks twice. */
const PICTOGRAPHIC_TABLE = new Uint8Array(0x6000);
// Range by range, not code point by code point: a loop of thousands at start-up is compiled by the JIT's top tier.
for (let k = 0; k < PICTOGRAPHIC.length; k += 2) {
  const first = PICTOGRAPHIC[k] ?? 0;
  const last = PICTOGRAPHIC[k + 1] ?? 0;
  markPictographic(Math.max(first, 0x2000), Math.min(last, 0x3fff), 0x2000);
  markPictographic(Math.max(first, 0x1f000), Math.min(last, 0x1ffff), 0x1d000);
}

/** Marks `[first, last]` (nothing when empty) at `offset` below in the table. */
function markPictographic(first: number, last: number, offset: number): void {
  if (first <= last) PICTOGRAPHIC_TABLE.fill(1, first - offset, last - offset + 1);
}

export function isPictographic(cp: number): boolean {
  if (cp >= 0x1f000) return cp < 0x20000 && PICTOGRAPHIC_TABLE[cp - 0x1d000] === 1;
  if (cp >= 0x2000) return cp < 0x4000 && PICTOGRAPHIC_TABLE[cp - 0x2000] === 1;
  return cp === 0xa9 || cp === 0xae;
}

/**
 * Whether a joiner `cp` (ZWNJ or ZWJ) is kept, given the code point just
 * before it, the one before that run of emoji extenders (`base`; the same
 * when there are none) and the one after it (-1 for none or invalid bytes).
 */
export function joinerKept(cp: number, before: number, base: number, after: number): boolean {
  if (isJoiningLetter(before) && isJoiningLetter(after)) return true;
  return cp === ZWJ && isPictographic(base) && isPictographic(after);
}

/** The code point of `text` ending at `at` (a UTF-16 index), -1 at the start. */
function codePointBefore(text: string, at: number): number {
  if (at <= 0) return -1;
  const low = text.charCodeAt(at - 1);
  if (low >= 0xdc00 && low <= 0xdfff && at >= 2) {
    const high = text.charCodeAt(at - 2);
    if (high >= 0xd800 && high <= 0xdbff) return ((high - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  }
  return low;
}

/** Whether the joiner at `at` in `text` is kept (see `joinerKept`). */
export function keptInText(cp: number, text: string, at: number): boolean {
  const before = codePointBefore(text, at);
  let base = before;
  let j = at;
  while (isEmojiExtend(base)) {
    j -= base > 0xffff ? 2 : 1;
    base = codePointBefore(text, j);
  }
  return joinerKept(cp, before, base, text.codePointAt(at + 1) ?? -1);
}

/** `src[i]`, or 0 past the line's end (as in sanitize.ts). */
function byteAt(src: Uint8Array, i: number, end: number): number {
  return i < end ? (src[i] ?? 0) : 0;
}

/**
 * The UTF-8 character at `src[i]` (a line ending at `end`) as its code point
 * times 8 plus its length; -1 when the bytes there are not one (the decoder's
 * U+FFFD) or `i` is the end. Only for the joiners' neighbours.
 */
function decodeAt(src: Uint8Array, i: number, end: number): number {
  const b = byteAt(src, i, end);
  if (i >= end || (b >= 0x80 && b < 0xc2) || b > 0xf4) return -1;
  const length = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  if (length === 1) return b * 8 + 1;
  const c = byteAt(src, i + 1, end);
  const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (c < low || c > high) return -1;
  let cp = (b & (0x7f >> length)) * 64 + (c & 0x3f);
  for (let k = 2; k < length; k++) {
    const x = byteAt(src, i + k, end);
    if ((x & 0xc0) !== 0x80) return -1;
    cp = cp * 64 + (x & 0x3f);
  }
  return cp * 8 + length;
}

/**
 * What the decoder makes of the bytes just before `at` (a line from `start`),
 * as `decodeAt` gives it: -1 at the line's start or when those bytes end in
 * U+FFFD. Every byte that is not a continuation starts one of the decoder's
 * characters, so the last one within 4 bytes back does.
 */
function decodeBefore(src: Uint8Array, start: number, at: number): number {
  let q = at - 1;
  while (q > start && q > at - 4 && ((src[q] ?? 0) & 0xc0) === 0x80) q--;
  if (q < start || ((src[q] ?? 0) & 0xc0) === 0x80) return -1;
  const char = decodeAt(src, q, at);
  return char >= 0 && q + (char & 7) === at ? char : -1;
}

/** Whether the joiner at `src[at]` (3 bytes) in the line `[start, end)` is kept (see `joinerKept`): the same as `keptInText`. */
export function keptInBytes(cp: number, src: Uint8Array, start: number, at: number, end: number): boolean {
  // The usual case, inside an emoji sequence: whole U+1Fxxx characters (F0 9F x y) on both sides, no extender before.
  if (cp === ZWJ && at - 4 >= start && at + 7 <= end && src[at - 4] === 0xf0 && src[at - 3] === 0x9f && src[at + 3] === 0xf0) {
    const b2 = src[at - 2] ?? 0;
    const b1 = src[at - 1] ?? 0;
    const a1 = src[at + 4] ?? 0;
    const a2 = src[at + 5] ?? 0;
    const a3 = src[at + 6] ?? 0;
    if (a1 === 0x9f && ((b2 & b1 & a2 & a3 & 0xc0) | ((b2 | b1 | a2 | a3) & 0x40)) === 0x80) {
      const before = 0x1f000 | ((b2 & 0x3f) << 6) | (b1 & 0x3f);
      if (!isEmojiExtend(before)) return isPictographic(before) && isPictographic(0x1f000 | ((a2 & 0x3f) << 6) | (a3 & 0x3f));
    }
  }
  let char = decodeBefore(src, start, at);
  const before = char >> 3;
  let base = before;
  let from = at;
  while (isEmojiExtend(base)) {
    from -= char & 7;
    char = decodeBefore(src, start, from);
    base = char >> 3;
  }
  return joinerKept(cp, before, base, decodeAt(src, at + 3, end) >> 3);
}
