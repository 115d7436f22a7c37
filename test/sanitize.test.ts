/**
 * The sanitiser's invisible characters (src/text/invisible.ts): each class made
 * visible, the joiners' exception, and both forms (`sanitize`/`decodeLine` on
 * strings, `sanitizeInto` bytes → bytes) giving the same for every case and
 * for random mixes of them.
 */
import { describe, expect, test } from "bun:test";
import { INVISIBLE_RANGES, isInvisible, isPictographic } from "../src/text/invisible.ts";
import { decodeLine, SANITIZE_GROWTH, sanitize, sanitizeInto } from "../src/text/sanitize.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** What `sanitizeInto` makes of the whole of `bytes`, as bytes. */
function intoBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * SANITIZE_GROWTH + 8);
  return out.subarray(0, sanitizeInto(bytes, 0, bytes.length, out, 0));
}

/** Both forms agree on `bytes`; returns what they give. */
function bothForms(bytes: Uint8Array): string {
  const text = decodeLine(bytes);
  expect(Buffer.from(intoBytes(bytes)).equals(Buffer.from(enc(text)))).toBe(true);
  return text;
}

test("the invisible ranges the sanitiser's tables are built from are exactly what isInvisible says", () => {
  const inRanges = (cp: number) => {
    for (let k = 0; k < INVISIBLE_RANGES.length; k += 2)
      if (cp >= (INVISIBLE_RANGES[k] ?? 0) && cp <= (INVISIBLE_RANGES[k + 1] ?? 0)) return true;
    return false;
  };
  const disagree: number[] = [];
  for (let cp = 0xa0; cp <= 0x10ffff; cp++) if (isInvisible(cp) !== inRanges(cp)) disagree.push(cp);
  expect(disagree).toEqual([]);
  // The pictographic table, built range by range, at its edges.
  expect([0x203c, 0x3299, 0x1f004, 0x1fffd, 0xa9].map(isPictographic)).toEqual([true, true, true, true, true]);
  expect([0x203b, 0x3298, 0x1f003, 0x1fffe, 0x4000].map(isPictographic)).toEqual([false, false, false, false, false]);
});

describe("invisible characters are made visible, in both forms", () => {
  const cases: [string, string, string][] = [
    ["Arabic letter mark (the one bidi control that was not escaped)", "a\u061cb", "a<U+061C>b"],
    ["zero-width space", "pay\u200bpal", "pay<U+200B>pal"],
    ["ZWNJ between Latin letters", "a\u200cb", "a<U+200C>b"],
    ["ZWJ between Latin letters", "a\u200db", "a<U+200D>b"],
    ["word joiner and invisible operators", "x\u2060y\u2062z\u2064", "x<U+2060>y<U+2062>z<U+2064>"],
    ["deprecated format controls U+206A–U+206F", "\u206a\u206f", "<U+206A><U+206F>"],
    ["a byte-order mark mid-line", "x\ufeffy", "x<U+FEFF>y"],
    ["soft hyphen", "in\u00advisible", "in<U+00AD>visible"],
    ["Mongolian vowel separator", "a\u180eb", "a<U+180E>b"],
    ["Hangul fillers", "\u115f\u1160\u3164\uffa0", "<U+115F><U+1160><U+3164><U+FFA0>"],
    ["interlinear annotation characters", "\ufff9a\ufffab\ufffb", "<U+FFF9>a<U+FFFA>b<U+FFFB>"],
    ["line and paragraph separators", "one\u2028two\u2029three", "one<U+2028>two<U+2029>three"],
    ["Arabic number sign, end of ayah, Syriac abbreviation mark", "\u0600\u06dd\u070f", "<U+0600><U+06DD><U+070F>"],
    ["Arabic pound and piastre marks above, disputed end of ayah", "\u0890\u0891\u08e2", "<U+0890><U+0891><U+08E2>"],
    ["tag characters (5 hex digits)", "flag\u{e0001}\u{e0041}\u{e007f}", "flag<U+E0001><U+E0041><U+E007F>"],
    ["unassigned tag block code points too", "\u{e0000}\u{e0002}", "<U+E0000><U+E0002>"],
    ["Kaithi and Egyptian format controls", "\u{110bd}\u{110cd}\u{13430}\u{1343f}", "<U+110BD><U+110CD><U+13430><U+1343F>"],
    ["shorthand and musical format controls", "\u{1bca0}\u{1bca3}\u{1d173}\u{1d17a}", "<U+1BCA0><U+1BCA3><U+1D173><U+1D17A>"],
    ["bidi controls as before", "\u202eevil\u200e\u2066", "<U+202E>evil<U+200E><U+2066>"],
    ["a leading byte-order mark is still dropped", "\ufeffx", "x"],
    ["a second leading byte-order mark is shown", "\ufeff\ufeffx", "<U+FEFF>x"],
  ];
  for (const [name, input, output] of cases) {
    test(name, () => {
      expect(bothForms(enc(input))).toBe(output);
      if (!input.startsWith("\ufeff")) expect(sanitize(input)).toBe(output);
    });
  }

  test("every Cf, Zl and Zp character the engine knows, between letters", () => {
    for (let cp = 0xa0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const char = String.fromCodePoint(cp);
      if (!/[\p{Cf}\p{Zl}\p{Zp}]/u.test(char)) continue;
      const expected = `x<U+${cp.toString(16).toUpperCase().padStart(4, "0")}>y`;
      expect([cp.toString(16), sanitize(`x${char}y`)]).toEqual([cp.toString(16), expected]);
      expect(bothForms(enc(`x${char}y`))).toBe(expected);
    }
  });

  test("characters that draw something stay", () => {
    for (const text of [
      "한국어 ㄱㅏ",
      "日本語、カタカナ。",
      "\u00a0nbsp",
      "é\u0301",
      "emoji 😀❤️👍🏽",
      "a\u2027b\u2030",
      "\ufe0f\ufffc\ufffd",
    ]) {
      expect(sanitize(text)).toBe(text);
      expect(bothForms(enc(text))).toBe(text);
    }
  });
});

describe("joiners kept where a script or an emoji needs them", () => {
  const kept: [string, string][] = [
    ["family emoji 👨‍👩‍👧", "\u{1f468}\u200d\u{1f469}\u200d\u{1f467}"],
    ["rainbow flag 🏳️‍🌈 (variation selector before the ZWJ)", "\u{1f3f3}\ufe0f\u200d\u{1f308}"],
    ["skin tone before the ZWJ 🧑🏽‍💻", "\u{1f9d1}\u{1f3fd}\u200d\u{1f4bb}"],
    ["heart on fire ❤️‍🔥 (BMP pictograph)", "\u2764\ufe0f\u200d\u{1f525}"],
    ["Persian ZWNJ می‌خواهم", "می\u200cخواهم"],
    ["Arabic ZWJ between letters", "\u0628\u200d\u0628"],
    ["Syriac ZWNJ", "\u0710\u200c\u0712"],
    ["Devanagari half form क्‍ष (ZWJ after the virama)", "\u0915\u094d\u200d\u0937"],
    ["Devanagari ZWNJ क्‌ष", "\u0915\u094d\u200c\u0937"],
    ["Sinhala yansaya", "\u0dc3\u0dca\u200d\u0dba"],
  ];
  for (const [name, text] of kept) {
    test(`kept: ${name}`, () => {
      expect(sanitize(text)).toBe(text);
      expect(bothForms(enc(text))).toBe(text);
    });
  }

  const shown: [string, string, string][] = [
    ["ZWJ between Latin letters", "a\u200db", "a<U+200D>b"],
    ["ZWNJ between emoji", "\u{1f600}\u200c\u{1f600}", "\u{1f600}<U+200C>\u{1f600}"],
    ["ZWJ after an emoji, before a letter", "\u{1f600}\u200da", "\u{1f600}<U+200D>a"],
    ["ZWJ after a letter, before an emoji", "a\u200d\u{1f600}", "a<U+200D>\u{1f600}"],
    ["ZWJ at the start and the end", "\u200d\u{1f600}\u200d", "<U+200D>\u{1f600}<U+200D>"],
    ["ZWJ at the end of an Indic cluster", "\u0d28\u0d4d\u200d", "\u0d28\u0d4d<U+200D>"],
    ["two ZWJs in a row", "\u{1f468}\u200d\u200d\u{1f469}", "\u{1f468}<U+200D><U+200D>\u{1f469}"],
    ["ZWNJ between an Arabic letter and a Latin one", "\u0628\u200ca", "\u0628<U+200C>a"],
    ["ZWNJ after Arabic format character", "\u0600\u200c\u0628", "<U+0600><U+200C>\u0628"],
    ["ZWJ next to a skin tone alone", "\u{1f3fd}\u200d\u{1f600}", "\u{1f3fd}<U+200D>\u{1f600}"],
  ];
  for (const [name, text, output] of shown) {
    test(`shown: ${name}`, () => {
      expect(sanitize(text)).toBe(output);
      expect(bothForms(enc(text))).toBe(output);
    });
  }

  test("a neighbour that is invalid UTF-8 is U+FFFD in both forms: the joiner is shown", () => {
    const zwj = [0xe2, 0x80, 0x8d];
    const emoji = [...enc("\u{1f600}")];
    const lines = [
      [...emoji.slice(0, 3), ...zwj, ...emoji], // a cut emoji before
      [...emoji, ...zwj, ...emoji.slice(0, 3)], // a cut emoji after
      [...emoji, 0x80, ...zwj, ...emoji], // a stray continuation byte between
      [0xf0, 0x80, 0x80, 0x80, ...zwj, ...emoji], // an overlong form before
    ];
    for (const line of lines) expect(bothForms(Uint8Array.from(line))).toContain("<U+200D>");
  });

  test("only the range is read: a neighbour outside it does not count", () => {
    const bytes = enc("\u{1f468}\u200d\u{1f469}");
    const out = new Uint8Array(64);
    expect(dec(out.subarray(0, sanitizeInto(bytes, 4, bytes.length, out, 0)))).toBe("<U+200D>\u{1f469}");
    expect(dec(out.subarray(0, sanitizeInto(bytes, 0, 7, out, 0)))).toBe("\u{1f468}<U+200D>");
  });
});

describe("both forms agree on random mixes", () => {
  const pieces = [
    "a",
    "Z",
    " ",
    "\t",
    "\x1b",
    "\x07",
    "\u0085",
    "é",
    "한",
    "\u0628",
    "\u06cc",
    "\u0710",
    "\u0915",
    "\u094d",
    "\u0d4d",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200d",
    "\u200e",
    "\u202e",
    "\u2028",
    "\u2060",
    "\u061c",
    "\u00ad",
    "\u3164",
    "\ufeff",
    "\ufe0f",
    "\u{1f3fd}",
    "\u{1f468}",
    "\u{1f600}",
    "\u2764",
    "\u{e0041}",
    "\u{e007f}",
    "\u{110bd}",
    "\u{1d173}",
    "\u0600",
  ];
  let seed = 99;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };

  test("strings of these characters: sanitize = decodeLine = sanitizeInto", () => {
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + random(12) }, () => pieces[random(pieces.length)]).join("");
      const bytes = enc(text);
      const expected = text.startsWith("\ufeff") ? sanitize(text.slice(1)) : sanitize(text);
      expect(bothForms(bytes)).toBe(expected);
    }
  });

  test("the same with bytes cut, dropped or changed: every invalid form beside a joiner", () => {
    for (let i = 0; i < 3000; i++) {
      const bytes = [...enc(Array.from({ length: 1 + random(10) }, () => pieces[random(pieces.length)]).join(""))];
      for (let k = random(3); k >= 0; k--) {
        const at = random(bytes.length);
        const change = random(3);
        if (change === 0) bytes.splice(at, 1);
        else if (change === 1) bytes.splice(at, 0, random(256));
        else bytes[at] = random(256);
      }
      bothForms(Uint8Array.from(bytes));
    }
  });
});
