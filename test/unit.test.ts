/** Table-driven tests of the pure parts: framing, decoding, sanitising, parsing. */
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { connectArgs } from "../src/commands/connect.ts";
import { serveArgs } from "../src/commands/serve.ts";
import { parseFlags } from "../src/commands/shared.ts";
import { eventJson, eventLine, parseLine } from "../src/events.ts";
import { LineInput } from "../src/modes/input.ts";
import { formatHostPort, parsePort, parseTarget, plainAddress } from "../src/net/address.ts";
import { parseCidr, refusal } from "../src/net/cidr.ts";
import { Printer } from "../src/printer.ts";
import { CONSOLE_HELP, HELP, parseInput } from "../src/room/commands.ts";
import { type Member, RENAME_BURST, takeRename } from "../src/room/members.ts";
import { nameProblem } from "../src/room/names.ts";
import { StdoutWriter } from "../src/stdout.ts";
import { copyBytes } from "../src/text/bytes.ts";
import { LineFramer, LineSplitter, utf8Boundary } from "../src/text/lines.ts";
import { copyPlainLines, linePrefix, plainTarget } from "../src/text/plain-lines.ts";
import { decodeLine, SANITIZE_GROWTH, sanitize, sanitizeInto } from "../src/text/sanitize.ts";
import { TelnetFilter } from "../src/text/telnet.ts";
import { parseDuration, parseSize } from "../src/text/units.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function split(chunks: (string | Uint8Array)[], maxLine = 4096, flush = false): string[] {
  const out: string[] = [];
  const splitter = new LineSplitter(maxLine, (line, cut) => out.push(`${dec(line)}${cut ? "<cut>" : ""}`));
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? enc(chunk) : chunk);
  if (flush) splitter.flush();
  return out;
}

describe("the server's printer labels another room's events in every style", () => {
  const at = new Date("2026-12-02T12:00:00Z");
  const printed = (style: "plain" | "tty" | "json", room?: string) => {
    const out: string[] = [];
    const printer = new Printer((text) => out.push(text), { style, serverView: true });
    printer.event({ type: "message", from: "bob", text: "hi" }, at, room);
    printer.event({ type: "join", name: "carol", peer: "127.0.0.1:5" }, at, room);
    return out.join("");
  };
  test("plain and tty: the room in brackets before the line (a tty message too, which is drawn from its parts)", () => {
    expect(printed("plain", "ops")).toBe("[ops] bob: hi\n[ops] * carol joined from 127.0.0.1:5\n");
    expect(printed("plain")).toBe("bob: hi\n* carol joined from 127.0.0.1:5\n");
    const tty = Bun.stripANSI(printed("tty", "ops")).split("\n");
    expect(tty[0]).toMatch(/^\d\d:\d\d:\d\d \[ops\] bob: hi$/);
    expect(tty[1]).toMatch(/^\d\d:\d\d:\d\d \[ops\] \* carol joined from 127\.0\.0\.1:5$/);
    expect(Bun.stripANSI(printed("tty"))).not.toContain("[");
  });
  test("json: a room field", () => {
    const [message, join] = printed("json", "ops")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(message).toMatchObject({ type: "message", from: "bob", text: "hi", room: "ops" });
    expect(join).toMatchObject({ type: "join", name: "carol", room: "ops" });
    expect(JSON.parse(printed("json").split("\n")[0] ?? "")).not.toHaveProperty("room");
  });
});

describe("copyBytes", () => {
  const source = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) & 0xff);
  const cases = [
    { start: 0, end: 0, at: 0 },
    { start: 3, end: 4, at: 9 },
    { start: 10, end: 41, at: 1 },
    { start: 10, end: 42, at: 0 },
    { start: 100, end: 600, at: 50 },
  ];
  for (const { start, end, at } of cases) {
    for (const from of [source, Buffer.from(source)]) {
      test(`[${start}, ${end}) of a ${from.constructor.name} to ${at}`, () => {
        const to = new Uint8Array(700).fill(0xee);
        expect(copyBytes(from, start, end, to, at)).toBe(at + end - start);
        expect([...to.subarray(at, at + end - start)]).toEqual([...source.subarray(start, end)]);
        expect(to[at - 1] ?? 0xee).toBe(0xee);
        expect(to[at + end - start]).toBe(0xee);
      });
    }
  }
});

describe("LineSplitter", () => {
  const korean = enc("안녕하세요\n");
  const cases: { name: string; chunks: (string | Uint8Array)[]; maxLine?: number; flush?: boolean; lines: string[] }[] = [
    { name: "one line", chunks: ["hello\n"], lines: ["hello"] },
    { name: "several lines in one chunk", chunks: ["a\nb\nc\n"], lines: ["a", "b", "c"] },
    { name: "a line across chunks", chunks: ["he", "ll", "o\nwor", "ld\n"], lines: ["hello", "world"] },
    { name: "CRLF drops the CR", chunks: ["a\r\nb\r\n"], lines: ["a", "b"] },
    { name: "CR split from its LF", chunks: ["a\r", "\n"], lines: ["a"] },
    { name: "inner CR is kept (sanitised later)", chunks: ["a\rb\n"], lines: ["a\rb"] },
    { name: "empty lines", chunks: ["\n\n"], lines: ["", ""] },
    { name: "unterminated line waits", chunks: ["abc"], lines: [] },
    { name: "unterminated line on flush", chunks: ["abc"], flush: true, lines: ["abc"] },
    { name: "nothing on flush when empty", chunks: ["abc\n"], flush: true, lines: ["abc"] },
    { name: "UTF-8 one byte at a time", chunks: [...korean].map((b) => Uint8Array.of(b)), lines: ["안녕하세요"] },
    { name: "exactly max-line is whole", chunks: ["abcd\n"], maxLine: 4, lines: ["abcd"] },
    { name: "longer is cut, rest skipped", chunks: ["abcdefgh\nok\n"], maxLine: 4, lines: ["abcd<cut>", "ok"] },
    { name: "cut across chunks", chunks: ["ab", "cdef", "gh", "ij\nnext\n"], maxLine: 4, lines: ["abcd<cut>", "next"] },
    { name: "cut never splits a character", chunks: ["aé\n"], maxLine: 2, lines: ["a<cut>"] },
    { name: "skipped tail with no newline stays skipped", chunks: ["abcdefg", "hij"], maxLine: 3, flush: true, lines: ["abc<cut>"] },
  ];
  for (const c of cases) test(c.name, () => expect(split(c.chunks, c.maxLine, c.flush)).toEqual(c.lines));

  test("memory stays bounded for a huge line without newline", () => {
    const splitter = new LineSplitter(4096, () => {});
    const block = new Uint8Array(1 << 20).fill(120);
    for (let i = 0; i < 16; i++) splitter.push(block);
    expect(splitter.pending).toBe(0);
  });

  test("utf8Boundary", () => {
    const bytes = enc("aé€😀");
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => utf8Boundary(bytes.subarray(0, i)))).toEqual([0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10]);
  });
});

describe("sanitize", () => {
  const cases: [string, string][] = [
    ["plain text", "plain text"],
    ["tab\tkept", "tab\tkept"],
    ["\x1b[31mred\x1b[0m", "^[[31mred^[[0m"],
    ["bell\x07", "bell^G"],
    ["over\rwrite", "over^Mwrite"],
    ["nul\x00", "nul^@"],
    ["del\x7f", "del^?"],
    ["c1 \u009b31m", "c1 <U+009B>31m"],
    ["bidi \u202eevil", "bidi <U+202E>evil"],
    ["한국어 ok", "한국어 ok"],
    ["emoji 😀", "emoji 😀"],
  ];
  for (const [input, output] of cases) test(JSON.stringify(input), () => expect(sanitize(input)).toBe(output));

  test("invalid UTF-8 becomes U+FFFD", () => {
    expect(decodeLine(Uint8Array.of(0x61, 0xff, 0xfe, 0x62))).toBe("a\uFFFD\uFFFDb");
  });
});

describe("TelnetFilter", () => {
  const cases: { name: string; chunks: number[][]; out: number[] }[] = [
    { name: "plain bytes pass", chunks: [[104, 105]], out: [104, 105] },
    { name: "WILL/DO negotiation removed", chunks: [[255, 251, 1, 104, 255, 253, 3, 105]], out: [104, 105] },
    { name: "subnegotiation removed", chunks: [[255, 250, 24, 1, 255, 240, 104]], out: [104] },
    { name: "IAC IAC is a literal 255", chunks: [[255, 255, 104]], out: [255, 104] },
    { name: "sequence split across chunks", chunks: [[104, 255], [251], [1, 105]], out: [104, 105] },
    { name: "two-byte command (IAC NOP)", chunks: [[255, 241, 104]], out: [104] },
    { name: "0xFF before a non-command byte is kept", chunks: [[97, 255, 66]], out: [97, 255, 66] },
    {
      name: "CR NUL becomes CR, across chunks too",
      chunks: [
        [97, 13, 0, 98, 13],
        [0, 99],
      ],
      out: [97, 13, 98, 13, 99],
    },
    { name: "NUL not after CR is kept", chunks: [[0, 97, 0]], out: [0, 97, 0] },
    {
      name: "binary: runs between several IACs and NULs",
      chunks: [
        [1, 255, 255, 2, 0, 3, 255],
        [66, 4, 255, 251],
      ],
      out: [1, 255, 2, 0, 3, 255, 66, 4],
    },
    {
      name: "subnegotiation split across chunks",
      chunks: [
        [104, 255, 250, 24],
        [1, 2, 255],
        [240, 105],
      ],
      out: [104, 105],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const filter = new TelnetFilter();
      const out = c.chunks.flatMap((chunk) => [...filter.push(Uint8Array.from(chunk))]);
      expect(out).toEqual(c.out);
    });
  }

  test("filter hands back the chunk itself when nothing is removed", () => {
    const filter = new TelnetFilter();
    const chunk = enc("plain text\r\n");
    expect(filter.filter(chunk)).toBe(chunk);
    expect(filter.length).toBe(chunk.length);
  });
});

describe("sanitizeInto", () => {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? enc(p) : Uint8Array.from(p))));
  const cases: [string, Uint8Array, string][] = [
    ["plain ASCII is copied", bytes("hello, world"), "hello, world"],
    ["tab is kept", bytes("a\tb"), "a\tb"],
    ["escape sequence", bytes("\x1b[31mred"), "^[[31mred"],
    ["CR, NUL and DEL", bytes("a\rb\x00c\x7f"), "a^Mb^@c^?"],
    ["C1 control", bytes([0x63, 0xc2, 0x9b]), "c<U+009B>"],
    ["U+00A0 is not a control", bytes([0xc2, 0xa0]), "\u00a0"],
    ["bidi overrides", bytes("\u202eevil\u200e\u2066"), "<U+202E>evil<U+200E><U+2066>"],
    ["Korean and emoji", bytes("한국어 😀"), "한국어 😀"],
    ["invalid bytes", bytes([0x61, 0xff, 0xfe, 0x62]), "a\uFFFD\uFFFDb"],
    ["stray continuation bytes", bytes([0x80, 0xbf]), "\uFFFD\uFFFD"],
    ["truncated character at the end", bytes([0x61, 0xe2, 0x82]), "a\uFFFD"],
    ["truncated character before ASCII", bytes([0xe2, 0x82, 0x41]), "\uFFFDA"],
    ["overlong form", bytes([0xc0, 0xaf]), "\uFFFD\uFFFD"],
    ["surrogate", bytes([0xed, 0xa0, 0x80]), "\uFFFD\uFFFD\uFFFD"],
    ["past U+10FFFF", bytes([0xf4, 0x90, 0x80, 0x80]), "\uFFFD\uFFFD\uFFFD\uFFFD"],
    ["a leading byte-order mark is dropped", bytes([0xef, 0xbb, 0xbf], "x"), "x"],
    ["a later byte-order mark is shown", bytes("x", [0xef, 0xbb, 0xbf]), "x<U+FEFF>"],
  ];
  for (const [name, input, output] of cases) {
    test(name, () => {
      const out = new Uint8Array(input.length * SANITIZE_GROWTH + 8);
      const end = sanitizeInto(input, 0, input.length, out, 3);
      expect(dec(out.subarray(3, end))).toBe(output);
      expect(dec(out.subarray(3, end))).toBe(decodeLine(input));
    });
  }

  test("only the range is read: a character cut by the range's end is U+FFFD", () => {
    const buffer = bytes("ab", [0xe2, 0x82], [0xac], "cd");
    const out = new Uint8Array(64);
    expect(dec(out.subarray(0, sanitizeInto(buffer, 1, 4, out, 0)))).toBe("b\uFFFD");
  });

  test("the same bytes as decodeLine for random binary", () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    const out = new Uint8Array(4096);
    for (let i = 0; i < 2000; i++) {
      const line = Uint8Array.from({ length: i % 97 }, random);
      const end = sanitizeInto(line, 0, line.length, out, 0);
      expect(Buffer.from(out.subarray(0, end)).equals(Buffer.from(enc(decodeLine(line))))).toBe(true);
    }
  });
});

describe("LineFramer", () => {
  function frame(chunks: string[], hold?: (lines: string[]) => boolean): { lines: string[]; stopped: number[] } {
    const lines: string[] = [];
    const stopped: number[] = [];
    const framer = new LineFramer(64, (bytes, start, end, cut) => lines.push(`${dec(bytes.subarray(start, end))}${cut ? "<cut>" : ""}`));
    for (const chunk of chunks) {
      const bytes = enc(chunk);
      stopped.push(framer.push(bytes, 0, bytes.length, hold && (() => hold(lines))));
    }
    return { lines, stopped };
  }
  test("a range: a newline past its end does not count", () => {
    const lines: string[] = [];
    const framer = new LineFramer(64, (bytes, start, end) => lines.push(dec(bytes.subarray(start, end))));
    framer.push(enc("xxab\ncd\nef"), 2, 8);
    framer.flush();
    expect(lines).toEqual(["ab", "cd"]);
  });
  test("hold stops after a line and says where", () => {
    expect(frame(["a\nb\nc\n"], (lines) => lines.length === 1)).toEqual({ lines: ["a"], stopped: [2] });
  });
  test("held partial lines are joined", () => {
    expect(frame(["ab", "cd", "e\r\nf\n"]).lines).toEqual(["abcde", "f"]);
  });
});

describe("StdoutWriter.line", () => {
  test("prefix, sanitised text and newline, in order with text", () => {
    const written: Uint8Array[] = [];
    const stream = Object.assign(new EventEmitter(), {
      isTTY: false,
      write(data: string | Uint8Array) {
        written.push(typeof data === "string" ? enc(data) : data);
        return true;
      },
    });
    const out = new StdoutWriter(stream as unknown as NodeJS.WriteStream);
    out.text("* first\n");
    const line = enc("zzhi \x1b[2J\xff");
    out.line(enc("1.2.3.4:5: "), line, 2, line.length);
    out.text("last\n");
    out.flush();
    expect(dec(Buffer.concat(written))).toBe("* first\n1.2.3.4:5: hi ^[[2J\u00ff\nlast\n");
  });
});

describe("printing plain lines at once", () => {
  /** A StdoutWriter over a fake stream; `text()` is everything it wrote. */
  function writer() {
    const written: Uint8Array[] = [];
    const stream = Object.assign(new EventEmitter(), {
      isTTY: false,
      write(data: string | Uint8Array) {
        written.push(typeof data === "string" ? enc(data) : data.slice());
        return true;
      },
    });
    const out = new StdoutWriter(stream as unknown as NodeJS.WriteStream);
    const bytes = () => {
      out.flush();
      return Buffer.concat(written);
    };
    return { out, bytes };
  }

  /** What a connection's printed lines come to, with the fast path (`bulk`) or line by line only. */
  function printed(chunks: Uint8Array[], maxLine: number, bulk: boolean): Buffer {
    const { out, bytes } = writer();
    const prefix = linePrefix("10.0.0.1:5000: ");
    const input = new LineInput(
      maxLine,
      (b, start, end) => out.line(prefix.bytes, b, start, end),
      undefined,
      bulk ? (b, start, end) => out.plainLines(prefix, b, start, end, maxLine) : undefined,
    );
    for (const chunk of chunks) input.push(chunk);
    input.finish();
    return bytes();
  }

  /** A deterministic mix of what clients send: plain lines, CRLF, tabs, empty lines, text, controls, binary, long lines. */
  function traffic(seed: number, lines: number, maxLine: number): Uint8Array {
    let x = seed;
    const next = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const parts: string[] = [];
    for (let i = 0; i < lines; i++) {
      const kind = next(10);
      const length = kind === 9 ? maxLine - 2 + next(5) : next(120);
      let line = "";
      for (let k = 0; k < length; k++) line += String.fromCharCode(32 + next(95));
      if (kind === 5) line = `${line}\t${line}`;
      if (kind === 6) line += "é☃";
      if (kind === 7) line += "\x1b[2J\r";
      if (kind === 8) line += "\x00\x7f";
      parts.push(line + (next(3) === 0 ? "\r\n" : "\n"));
    }
    const bytes = enc(parts.join(""));
    // Bytes that are no UTF-8 at all, in one line in ten.
    for (let i = next(50); i < bytes.length; i += 500 + next(500)) if (bytes[i] !== 10) bytes[i] = 0x80 + next(128);
    return bytes;
  }

  /** `bytes` in chunks of random sizes, each at a random offset of its own buffer (any alignment). */
  function chunked(bytes: Uint8Array, seed: number, most: number): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let x = seed;
    for (let at = 0; at < bytes.length; ) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const size = 1 + ((x >>> 8) % most);
      const offset = x & 7;
      const buffer = new Uint8Array(offset + size);
      buffer.set(bytes.subarray(at, at + size), offset);
      chunks.push(buffer.subarray(offset, offset + Math.min(size, bytes.length - at)));
      at += size;
    }
    return chunks;
  }

  test("the same bytes as framing and printing line by line, in chunks of any size and alignment", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const maxLine = seed % 2 === 0 ? 64 : 4096;
      const bytes = traffic(seed, 300, maxLine);
      const chunks = chunked(bytes, seed, seed % 3 === 0 ? 7 : 3000);
      const fast = printed(chunks, maxLine, true);
      expect(fast.length).toBeGreaterThan(0);
      expect(fast.equals(printed(chunks, maxLine, false))).toBe(true);
    }
  });

  test("more plain text in one read than the batch holds", () => {
    const line = `${"x".repeat(99)}\n`;
    const bytes = enc(`${line.repeat(3000)}tail`);
    const out = printed([bytes], 4096, true);
    const expected = `${`10.0.0.1:5000: ${"x".repeat(99)}\n`.repeat(3000)}10.0.0.1:5000: tail\n`;
    expect(out.length).toBe(expected.length);
    expect(out.equals(Buffer.from(expected))).toBe(true);
  });

  test("stops before the first line it cannot copy whole, and says where", () => {
    const prefix = linePrefix("p: ");
    const dst = new Uint8Array(64);
    const src = enc("ab\r\ncd\n\tok\nno\x1b\nzz\n");
    let target = plainTarget(dst);
    copyPlainLines(src, 0, src.length, 100, prefix, target, 0);
    expect(dec(dst.subarray(0, target.wrote))).toBe("p: ab\np: cd\np: \tok\n");
    expect(target.read).toBe(src.indexOf(0x6e)); // at "no\x1b"
    // It stops where the room left might not hold a line of maxLine bytes.
    target = plainTarget(dst, 16);
    copyPlainLines(src, 0, src.length, 4, prefix, target, 0);
    expect(dec(dst.subarray(0, target.wrote))).toBe("p: ab\np: cd\n");
    expect(target.read).toBe(7);
    // A line longer than maxLine and an unfinished line are left for the framer.
    target = plainTarget(dst);
    copyPlainLines(src, 0, src.length, 1, prefix, target, 0);
    expect({ read: target.read, wrote: target.wrote }).toEqual({ read: 0, wrote: 0 });
    copyPlainLines(src, 8, 10, 100, prefix, target, 0); // "ok", no newline yet
    expect({ read: target.read, wrote: target.wrote }).toEqual({ read: 8, wrote: 0 });
  });

  test("saying (a room): stops before an empty line, a blank start and a command; tab inside is fine", () => {
    const prefix = linePrefix("al: ");
    const dst = new Uint8Array(256);
    const cases: [string, string][] = [
      ["hi\nyo\t!\n\nafter\n", "al: hi\nal: yo\t!\n"],
      ["hi\r\n\r\nafter\n", "al: hi\n"],
      ["hi\n  indented\n", "al: hi\n"],
      ["hi\n\ttabbed\n", "al: hi\n"],
      ["hi\n/me waves\n", "al: hi\n"],
      ["/nick x\nhi\n", ""],
      ["a/b\n~\n", "al: a/b\nal: ~\n"],
    ];
    for (const [input, copied] of cases) {
      const src = enc(input);
      const target = plainTarget(dst);
      copyPlainLines(src, 0, src.length, 100, prefix, target, 0, true);
      expect(dec(dst.subarray(0, target.wrote))).toBe(copied);
      // What it took is whole lines, and the prefix is added once to each.
      expect(dec(src.subarray(0, target.read)).split("\n").length - 1).toBe(copied.split("\n").length - 1);
    }
  });
});

describe("units", () => {
  const durations: [string, number | null][] = [
    ["90", 90_000],
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["0", 0],
    ["", null],
    ["10x", null],
    ["-1s", null],
  ];
  for (const [text, ms] of durations) test(`duration ${JSON.stringify(text)}`, () => expect(parseDuration(text)).toBe(ms));
  const sizes: [string, number | null][] = [
    ["4096", 4096],
    ["64k", 65536],
    ["1m", 1048576],
    ["2MiB", 2097152],
    ["1g", 1073741824],
    ["x", null],
    ["1.5k", null],
  ];
  for (const [text, bytes] of sizes) test(`size ${JSON.stringify(text)}`, () => expect(parseSize(text)).toBe(bytes));
});

describe("addresses", () => {
  const targets: [string[], unknown][] = [
    [[], { host: "localhost", port: 5000 }],
    [["example"], { host: "example", port: 5000 }],
    [["example", "6000"], { host: "example", port: 6000 }],
    [["example:6000"], { host: "example", port: 6000 }],
    [["[::1]:7000"], { host: "::1", port: 7000 }],
    [["[::1]"], { host: "::1", port: 5000 }],
    [["::1"], { host: "::1", port: 5000 }],
    [["::1", "7000"], { host: "::1", port: 7000 }],
    [["6000"], { host: "localhost", port: 6000 }],
    [["example", "70000"], "invalid port: 70000 (expected 0-65535)"],
    [["example:abc"], "invalid port: abc (expected 0-65535)"],
    [["a", "1", "2"], "too many arguments: a 1 2"],
  ];
  for (const [args, result] of targets) test(`target ${args.join(" ")}`, () => expect(parseTarget(args)).toEqual(result as never));
  test("ports", () => expect(["0", "65535", "65536", "-1", "1e3", "80"].map(parsePort)).toEqual([0, 65535, null, null, null, 80]));
  test("formatting", () => {
    expect(plainAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(formatHostPort("::ffff:10.1.2.3", 5)).toBe("10.1.2.3:5");
    expect(formatHostPort("::1", 5000)).toBe("[::1]:5000");
    expect(formatHostPort("::", 5000)).toBe("[::]:5000");
  });
});

describe("cidr", () => {
  const cidrs = (...texts: string[]) => texts.map((t) => parseCidr(t) ?? expect.unreachable(t));
  const cases: { address: string; allow: string[]; deny: string[]; result: string | null }[] = [
    { address: "127.0.0.1", allow: [], deny: [], result: null },
    { address: "127.0.0.1", allow: ["127.0.0.0/8"], deny: [], result: null },
    { address: "10.0.0.1", allow: ["127.0.0.0/8"], deny: [], result: "address not allowed" },
    { address: "10.0.0.1", allow: [], deny: ["10.0.0.0/8"], result: "address denied" },
    { address: "::ffff:10.0.0.1", allow: [], deny: ["10.0.0.0/8"], result: "address denied" },
    { address: "::1", allow: ["::1/128"], deny: [], result: null },
    { address: "::1", allow: ["127.0.0.1"], deny: [], result: "address not allowed" },
    { address: "fe80::1", allow: ["fe80::/10"], deny: [], result: null },
    { address: "2001:db8::5", allow: [], deny: ["2001:db8::/32"], result: "address denied" },
    { address: "127.0.0.1", allow: ["0.0.0.0/0"], deny: ["127.0.0.1/32"], result: "address denied" },
  ];
  for (const c of cases) {
    test(`${c.address} allow=${c.allow} deny=${c.deny}`, () =>
      expect(refusal(c.address, cidrs(...c.allow), cidrs(...c.deny))).toBe(c.result));
  }
  test("invalid blocks", () =>
    expect(["10.0.0.0/33", "300.1.1.1", "::1/129", "abc", "1::2::3"].map(parseCidr)).toEqual([null, null, null, null, null]));
});

describe("room input", () => {
  const cases: [string, unknown][] = [
    ["hello", { kind: "say", text: "hello" }],
    ["//slash", { kind: "say", text: "/slash" }],
    ["/nick alice", { kind: "nick", name: "alice" }],
    ["/NICK alice", { kind: "nick", name: "alice" }],
    ["/nick", { kind: "usage", text: "/nick NAME" }],
    ["/nick two words", { kind: "usage", text: "/nick NAME" }],
    ["/who", { kind: "who", prefix: "" }],
    ["/who Al", { kind: "who", prefix: "Al" }],
    ["/who a b", { kind: "usage", text: "/who [PREFIX]" }],
    ["/me waves", { kind: "me", text: "waves" }],
    ["/me", { kind: "usage", text: "/me ACTION" }],
    ["/msg bob hi there", { kind: "msg", to: "bob", text: "hi there" }],
    ["/msg bob", { kind: "usage", text: "/msg NAME TEXT" }],
    ["/help", { kind: "help" }],
    ["/quit", { kind: "quit" }],
    ["/kick bob", { kind: "kick", name: "bob" }],
    ["/dance", { kind: "unknown", command: "/dance" }],
  ];
  for (const [line, input] of cases) test(JSON.stringify(line), () => expect(parseInput(line)).toEqual(input as never));

  const names: [string, boolean][] = [
    ["alice", true],
    ["a", true],
    ["A_b-c.9", true],
    ["x".repeat(24), true],
    ["x".repeat(25), false],
    ["", false],
    ["has space", false],
    ["émile", false],
    ["a:b", false],
  ];
  for (const [name, ok] of names) test(`name ${JSON.stringify(name)}`, () => expect(nameProblem(name) === null).toBe(ok));
});

describe("events", () => {
  const lines: [Parameters<typeof eventLine>[0], string][] = [
    [{ type: "message", from: "alice", text: "hi" }, "alice: hi"],
    [{ type: "message", from: "alice", to: "bob", text: "psst" }, "alice -> bob: psst"],
    [{ type: "message", text: "raw" }, "raw"],
    [{ type: "action", from: "alice", text: "waves" }, "** alice waves"],
    [{ type: "notice", text: "hello" }, "* hello"],
    [{ type: "error", text: "no" }, "! no"],
    [{ type: "join", name: "bob", peer: "1.2.3.4:5" }, "* bob joined"],
    [{ type: "leave", name: "bob", peer: "p", reason: "quit" }, "* bob left"],
    [{ type: "leave", name: "bob", peer: "p", reason: "too slow" }, "* bob left (too slow)"],
    [{ type: "leave", name: "bob", peer: "p", reason: "timed out" }, "* bob timed out"],
    [{ type: "rename", from: "al", to: "alice" }, "* al is now alice"],
  ];
  for (const [event, line] of lines) test(`line ${line}`, () => expect(eventLine(event)).toBe(line));

  const parsed: [string, unknown][] = [
    ["alice: hi: there", { type: "message", from: "alice", text: "hi: there" }],
    ["alice -> bob: psst", { type: "message", from: "alice", to: "bob", text: "psst" }],
    ["* bob joined", { type: "notice", text: "bob joined" }],
    ["** alice waves at bob", { type: "action", from: "alice", text: "waves at bob" }],
    ["** alice ", { type: "action", from: "alice", text: "" }],
    // An older server's action (`* NAME ACTION`) cannot be told from a notice: it stays one.
    ["* alice waves", { type: "notice", text: "alice waves" }],
    // Not a name after `** `: not an action.
    ["** a:b c", { type: "message", text: "** a:b c" }],
    ["! no such name", { type: "error", text: "no such name" }],
    ["no prefix here", { type: "message", text: "no prefix here" }],
  ];
  for (const [line, event] of parsed) test(`parse ${line}`, () => expect(parseLine(line)).toEqual(event as never));

  test("json has ts and type first", () => {
    const at = new Date("2026-01-02T03:04:05.000Z");
    expect(eventJson({ type: "message", from: "a", text: "b" }, at)).toBe(
      '{"ts":"2026-01-02T03:04:05.000Z","type":"message","from":"a","text":"b"}',
    );
    expect(JSON.parse(eventJson({ type: "join", name: "a", peer: "1.2.3.4:5" }, at))).toEqual({
      ts: at.toISOString(),
      type: "join",
      name: "a",
      peer: "1.2.3.4:5",
    });
  });
});

describe("parseFlags", () => {
  const cases: { args: string[]; def: "serve" | "connect"; error: string | null; parsed?: Record<string, unknown> }[] = [
    { args: ["--port", "5000"], def: "serve", error: null, parsed: { port: "5000", mode: "twoway", _: [] } },
    { args: ["--port=5000", "--mode", "echo"], def: "serve", error: null, parsed: { port: "5000", mode: "echo" } },
    { args: ["-p", "1", "-m", "echo", "-q"], def: "serve", error: null, parsed: { port: "1", mode: "echo", quiet: true } },
    { args: ["--bogus"], def: "serve", error: "unknown option --bogus" },
    { args: ["--bogus=1"], def: "serve", error: "unknown option --bogus" },
    { args: ["--port"], def: "serve", error: "option --port needs a value" },
    { args: ["--allow", "a", "--allow", "b"], def: "serve", error: null, parsed: { allow: "b" } },
    { args: ["--port", "-5"], def: "serve", error: null, parsed: { port: "-5" } },
    { args: ["--name="], def: "serve", error: null, parsed: { name: "" } },
    {
      args: ["host", "5000", "--name", "x", "--json"],
      def: "connect",
      error: null,
      parsed: { host: "host", port: "5000", name: "x", json: true, _: ["host", "5000"] },
    },
    { args: ["--no-json"], def: "connect", error: null, parsed: { json: false } },
    { args: ["--json=false", "--tls"], def: "connect", error: null, parsed: { json: false, tls: true } },
    { args: ["--no-name"], def: "connect", error: "unknown option --no-name" },
    { args: ["--mode", "echo"], def: "connect", error: "unknown option --mode" },
    { args: ["--", "--whatever"], def: "connect", error: null, parsed: { _: ["--whatever"], host: "--whatever" } },
    { args: ["-"], def: "connect", error: null, parsed: { _: ["-"] } },
  ];
  for (const c of cases) {
    test(`${c.def} ${c.args.join(" ")}`, () => {
      const run = () => parseFlags(c.args, c.def === "serve" ? serveArgs : connectArgs);
      if (c.error) expect(run).toThrow(c.error);
      else expect(run()).toMatchObject(c.parsed ?? {});
    });
  }
});

describe("no action can pass for a notice", () => {
  // Every notice line the room sends a plain client (the texts of src/room/): an action
  // said with any name and any text, however the notice's words are split, is never one.
  const reasons = ["quit", "closed", "too slow", "timed out", "kicked", "error", "shutdown"] as const;
  const notices: string[] = [
    "* welcome, you are guest-1 (1 other here; /nick NAME to rename, /help for commands)",
    "* welcome, you are guest-2 (0 others here; /nick NAME to rename, /help for commands)",
    "* 3 here: alice, bob, server",
    "* you are already alice",
    "* bye",
    "* server shutting down",
    ...[...HELP, ...CONSOLE_HELP].map((line) => `* ${line}`),
    eventLine({ type: "join", name: "bob", peer: "p" }),
    ...reasons.map((reason) => eventLine({ type: "leave", name: "bob", peer: "p", reason })),
    eventLine({ type: "rename", from: "al", to: "alice" }),
    eventLine({ type: "rename", from: "you", to: "alice", self: true }),
    eventLine({ type: "notice", text: "you are now alice" }),
  ];
  test.each(notices)("%s", (notice) => {
    expect(notice.startsWith("* ")).toBe(true);
    const body = notice.slice(2);
    // Each way a spoofer could split it into a name and an action, and the whole as a name.
    const tries: [string, string][] = [[body, ""]];
    for (let i = body.indexOf(" "); i >= 0; i = body.indexOf(" ", i + 1)) tries.push([body.slice(0, i), body.slice(i + 1)]);
    for (const [from, text] of tries) {
      const line = eventLine({ type: "action", from, text });
      expect(line).not.toBe(notice);
      expect(line.startsWith("** ")).toBe(true);
      expect(line.startsWith("* ")).toBe(false);
      expect(parseLine(line).type).not.toBe("notice");
    }
  });
});

describe("renames a member may make", () => {
  test("three at once, then one a second, never more than three saved up", () => {
    const m = { renames: RENAME_BURST, renamesAt: 0 } as Member;
    expect([takeRename(m, 0), takeRename(m, 0), takeRename(m, 0), takeRename(m, 0)]).toEqual([true, true, true, false]);
    expect([takeRename(m, 999), takeRename(m, 1000), takeRename(m, 1000)]).toEqual([false, true, false]);
    expect([takeRename(m, 60_000), takeRename(m, 60_000), takeRename(m, 60_000), takeRename(m, 60_000)]).toEqual([true, true, true, false]);
  });
});
