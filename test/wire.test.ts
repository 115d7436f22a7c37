/** Tables for JSON events (docs/events.md): each event's JSON, `/events` parsing, the room's recent lines. */
import { describe, expect, test } from "bun:test";
import { type ChatEvent, eventJson } from "../src/events.ts";
import { parseInput } from "../src/room/commands.ts";
import { RecentLines } from "../src/room/recent.ts";
import { type JsonSink, replayedJson, wireJson, writePlainLinesJson } from "../src/room/wire.ts";

const TS = Date.parse("2026-01-02T03:04:05.678Z");
const ISO = "2026-01-02T03:04:05.678Z";
const enc = (text: string) => new TextEncoder().encode(text);

describe("wire: each event as JSON", () => {
  const table: [ChatEvent, string | undefined, Record<string, unknown>][] = [
    [{ type: "message", from: "alice", text: "hi" }, "1-7", { id: "1-7", ts: ISO, type: "message", from: "alice", text: "hi" }],
    [
      { type: "message", from: "alice", to: "bob", text: "psst" },
      undefined,
      { ts: ISO, type: "message", from: "alice", to: "bob", text: "psst" },
    ],
    [
      { type: "action", from: "alice", text: "waves" },
      "1-8",
      { id: "1-8", ts: ISO, type: "notice", kind: "action", from: "alice", text: "alice waves" },
    ],
    [{ type: "join", name: "bob", peer: "1.2.3.4:5" }, undefined, { ts: ISO, type: "join", name: "bob", text: "bob joined" }],
    [
      { type: "leave", name: "bob", peer: "p", reason: "too slow" },
      undefined,
      { ts: ISO, type: "leave", name: "bob", reason: "too slow", text: "bob left (too slow)" },
    ],
    [
      { type: "rename", from: "al", to: "alice" },
      undefined,
      { ts: ISO, type: "notice", kind: "rename", from: "al", to: "alice", text: "al is now alice" },
    ],
    [
      { type: "rename", from: "guest-1", to: "alice", self: true },
      undefined,
      { ts: ISO, type: "notice", kind: "rename", from: "guest-1", to: "alice", text: "you are now alice" },
    ],
    [{ type: "notice", text: "you are already bob" }, undefined, { ts: ISO, type: "notice", text: "you are already bob" }],
    [{ type: "notice", kind: "bye", text: "bye" }, undefined, { ts: ISO, type: "notice", kind: "bye", text: "bye" }],
    [
      { type: "notice", kind: "who", members: ["a", "b"], text: "2 here: a, b" },
      undefined,
      { ts: ISO, type: "notice", kind: "who", members: ["a", "b"], text: "2 here: a, b" },
    ],
    [{ type: "error", text: "that is you" }, undefined, { ts: ISO, type: "error", text: "that is you" }],
    [
      { type: "error", code: "name-taken", text: "the name bob is taken" },
      undefined,
      { ts: ISO, type: "error", code: "name-taken", text: "the name bob is taken" },
    ],
  ];
  for (const [event, id, object] of table) {
    test(`${event.type} ${JSON.stringify(object.text)}`, () => {
      const json = wireJson(event, TS, id);
      // Field order as in docs/events.md.
      expect(json).toBe(JSON.stringify(object));
    });
  }

  test("a replayed line is marked history", () => {
    expect(JSON.parse(wireJson({ type: "message", from: "a", text: "b" }, TS, "1-1", true))).toMatchObject({ history: true });
  });

  test("plain lines written from their bytes are the same JSON as each line's event", () => {
    const texts = ["hi", 'say "hi"', "back\\slash", "tab\there", "{}[]<>/&'", "x".repeat(300)];
    const relayed = texts.map((t) => `alice: ${t}\n`).join("");
    const sink: { buffer: Uint8Array; used: number; reserve: JsonSink["reserve"] } = {
      buffer: new Uint8Array(0),
      used: 0,
      reserve(most) {
        const grown = new Uint8Array(this.used + most);
        grown.set(this.buffer.subarray(0, this.used));
        this.buffer = grown;
        return this.used;
      },
    };
    const bytes = enc(`junk${relayed}`);
    const head = enc('{"id":"1700000000000-');
    const end = writePlainLinesJson(sink, head, bytes, 4, bytes.length, texts.length, "alice: ".length, 99, TS, "alice");
    const expected = texts.map((text, i) => `${wireJson({ type: "message", from: "alice", text }, TS, `1700000000000-${99 + i}`)}\n`);
    expect(new TextDecoder().decode(sink.buffer.subarray(0, end))).toBe(expected.join(""));
  });

  test("--json on the server: actions and renames gain a kind, nothing else changes", () => {
    const at = new Date(TS);
    expect(JSON.parse(eventJson({ type: "action", from: "a", text: "waves" }, at))).toEqual({
      ts: ISO,
      type: "notice",
      kind: "action",
      text: "a waves",
      from: "a",
    });
    expect(JSON.parse(eventJson({ type: "rename", from: "a", to: "b" }, at))).toEqual({
      ts: ISO,
      type: "notice",
      kind: "rename",
      text: "a is now b",
      from: "a",
      to: "b",
    });
  });

  const commands: [string, unknown][] = [
    ["/events json", { kind: "events", format: "json", after: undefined }],
    ["/events json after=17-3", { kind: "events", format: "json", after: "17-3" }],
    ["/EVENTS text", { kind: "events", format: "text" }],
    ["/events", { kind: "usage", text: "/events json [after=ID] | text" }],
    ["/events bogus", { kind: "usage", text: "/events json [after=ID] | text" }],
    ["/events json since=3", { kind: "usage", text: "/events json [after=ID] | text" }],
    ["/events json after=1-1 more", { kind: "usage", text: "/events json [after=ID] | text" }],
    ["/events text after=1-1", { kind: "usage", text: "/events json [after=ID] | text" }],
  ];
  for (const [line, input] of commands) test(`parse ${line}`, () => expect(parseInput(line)).toEqual(input as never));
});

describe("recent lines", () => {
  const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `a: ${from + i}\n`).join("");
  const add = (r: RecentLines, text: string, sender = 1, ts = TS) => {
    const bytes = enc(text);
    return r.add(bytes, 0, bytes.length, text.split("\n").length - 1, sender, ts);
  };
  const texts = (r: RecentLines, from: number) => [...r.from(from)].map((l) => new TextDecoder().decode(l.bytes.subarray(l.start, l.end)));

  test("numbers lines in order across chunks; ids are START-SEQ", () => {
    const r = new RecentLines(1234, 10);
    expect(add(r, lines(3))).toBe(1);
    expect(add(r, lines(2, 4))).toBe(4);
    expect(r.last).toBe(5);
    expect(r.id(5)).toBe("1234-5");
    expect(r.seqOf("1234-5")).toBe(5);
    expect(r.seqOf("1234-6")).toBeNull();
    expect(r.seqOf("999-5")).toBeNull();
    expect(r.seqOf("junk")).toBeNull();
    expect(texts(r, 3)).toEqual(["a: 3", "a: 4", "a: 5"]);
  });

  test("tail: the last N lines as relayed, across chunks", () => {
    const r = new RecentLines(1, 10);
    add(r, lines(3));
    add(r, lines(2, 4));
    expect(new TextDecoder().decode(r.tail(3) ?? new Uint8Array())).toBe("a: 3\na: 4\na: 5\n");
    expect(new TextDecoder().decode(r.tail(50) ?? new Uint8Array())).toBe(lines(5));
    expect(new RecentLines(1).tail(5)).toBeNull();
  });

  test("keeps at least `keep` lines, letting whole chunks go, and at most maxBytes", () => {
    const r = new RecentLines(1, 4);
    for (let i = 0; i < 10; i++) add(r, lines(2, 2 * i + 1));
    expect(r.oldest).toBe(17);
    expect(texts(r, 0)).toEqual(["a: 17", "a: 18", "a: 19", "a: 20"]);
    const small = new RecentLines(1, 1000, 64);
    for (let i = 1; i <= 20; i++) add(small, `a: ${"x".repeat(10)}\n`);
    expect(texts(small, 0).length).toBe(4);
    expect(small.oldest).toBe(17);
  });

  test("round and round: what is held is always the newest lines, whole, at least `keep` of them within the byte bound", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (const [keep, maxBytes, longest] of [
      [50, 4096, 40],
      [1000, 1024 * 1024, 3000],
    ] as const) {
      const r = new RecentLines(1, keep, maxBytes);
      const all: string[] = [];
      for (let round = 0; round < 3000; round++) {
        const count = 1 + random(4);
        const said = Array.from({ length: count }, () => `n${all.length}: ${"y".repeat(random(longest))}`);
        for (const line of said) all.push(line);
        add(r, said.map((l) => `${l}\n`).join(""), round % 3, round);
        const held = texts(r, 0);
        expect(held).toEqual(all.slice(all.length - held.length));
        const heldBytes = held.reduce((n, l) => n + l.length + 1, 0);
        // Chunks (up to 4 lines) go whole, and one may leave a gap at the store's end.
        const chunk = 4 * (longest + 10);
        expect(held.length >= keep || heldBytes + 2 * chunk > maxBytes || held.length === all.length).toBe(true);
        expect(heldBytes).toBeLessThanOrEqual(maxBytes);
      }
    }
  });

  test("replay: after an id; an unknown or too old one gives all held, not complete", () => {
    const r = new RecentLines(7, 4);
    for (let i = 1; i <= 6; i++) add(r, lines(1, i));
    const seqs = (x: { lines: { seq: number }[] }) => x.lines.map((l) => l.seq);
    expect(seqs(r.replay("7-4", 20, 0, 9))).toEqual([5, 6]);
    expect(r.replay("7-6", 20, 0, 9)).toEqual({ lines: [], complete: true });
    expect(r.replay("7-2", 20, 0, 9).complete).toBe(true);
    expect(r.replay("7-1", 20, 0, 9)).toMatchObject({ complete: false });
    expect(seqs(r.replay("7-1", 20, 0, 9))).toEqual([3, 4, 5, 6]);
    expect(seqs(r.replay("8-4", 20, 0, 9))).toEqual([3, 4, 5, 6]);
    expect(r.replay("8-4", 20, 0, 9).complete).toBe(false);
  });

  test("replay without an id: the last `history` lines and the others' lines since `textFrom`", () => {
    const r = new RecentLines(7, 100);
    add(r, lines(3), 1);
    add(r, lines(1, 4), 2);
    add(r, lines(1, 5), 1);
    add(r, lines(1, 6), 2);
    const seqs = (history: number, textFrom: number, self: number) => r.replay(undefined, history, textFrom, self).lines.map((l) => l.seq);
    expect(seqs(0, 6, 2)).toEqual([]);
    expect(seqs(2, 6, 2)).toEqual([5, 6]);
    expect(seqs(0, 3, 2)).toEqual([5]);
    expect(seqs(1, 3, 2)).toEqual([5, 6]);
    expect(seqs(0, 0, 3)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("wire: kept lines replayed", () => {
  test("`** NAME ACTION` is an action; `NAME: TEXT` a message", () => {
    expect(JSON.parse(replayedJson("** alice waves at bob", TS, "1-9"))).toEqual({
      id: "1-9",
      ts: ISO,
      type: "notice",
      kind: "action",
      from: "alice",
      text: "alice waves at bob",
      history: true,
    });
    expect(JSON.parse(replayedJson("alice: ** hi", TS, "1-10"))).toMatchObject({ type: "message", from: "alice", text: "** hi" });
  });
});
