/** Tables for the client's pure parts: terminal widths and rows, completion, mentions, the room link, the probe. */
import { describe, expect, test } from "bun:test";
import { backoff } from "../src/retry.ts";
import { eventOfLine, parseEvent, plainLine, type RoomEvent, RoomLink, SeenLines } from "../src/room-link.ts";
import { Probe, type Verdict } from "../src/session-probe.ts";
import { candidates } from "../src/tty/complete.ts";
import { cursorCell, graphemes, graphemeWidth, layout, wrapLine } from "../src/tty/width.ts";
import { mentionRanges } from "../src/view.ts";

describe("terminal width of a grapheme cluster", () => {
  const cases = [
    { text: "a", width: 1 },
    { text: "가", width: 2 },
    { text: "e\u0301", width: 1 },
    { text: "🙂", width: 2 },
    { text: "👨‍👩‍👧", width: 2 },
    { text: "🇰🇷", width: 2 },
    { text: "Ａ", width: 2 },
    { text: "\u200b", width: 0 },
  ];
  test.each(cases)("$text is $width columns", ({ text, width }) => {
    expect(graphemes(text)).toHaveLength(1);
    expect(graphemeWidth(text)).toBe(width);
  });
});

describe("rows of a draft", () => {
  const cases = [
    { name: "fits", widths: [1, 1, 1], columns: 5, starts: [0, 1, 2], end: { row: 0, col: 3 } },
    { name: "exactly full waits to wrap", widths: [1, 1, 1], columns: 3, starts: [0, 1, 2], end: { row: 0, col: 3 } },
    { name: "wraps", widths: [1, 1, 1, 1], columns: 3, starts: [0, 1, 2, 0], end: { row: 1, col: 1 } },
    { name: "a wide char never straddles", widths: [1, 1, 2], columns: 3, starts: [0, 1, 0], end: { row: 1, col: 2 } },
    { name: "combining marks take no column", widths: [1, 0, 1], columns: 2, starts: [0, 1, 1], end: { row: 0, col: 2 } },
  ];
  test.each(cases)("$name", ({ widths, columns, starts, end }) => {
    const placed = layout(widths, columns);
    expect(placed.starts.map((cell) => cell.col)).toEqual(starts);
    expect(placed.end).toEqual(end);
  });

  test("a cursor one past the last column is at the start of the next row", () => {
    expect(cursorCell({ row: 0, col: 3 }, 3)).toEqual({ row: 1, col: 0 });
    expect(cursorCell({ row: 2, col: 1 }, 3)).toEqual({ row: 2, col: 1 });
  });

  test("a 70-syllable Hangul draft with a 2-column prompt takes 4 rows of 40", () => {
    const clusters = graphemes(`> ${"한".repeat(70)}`);
    expect(layout(clusters.map(graphemeWidth), 40).end.row).toBe(3);
  });
});

describe("wrapping a printed line with a hanging indent", () => {
  const cases = [
    { name: "short line untouched", text: "12:00:00 a: hi", columns: 40, indent: 9, rows: ["12:00:00 a: hi"] },
    {
      name: "breaks after a space, indents the rest",
      text: "12:00:00 bob: one two three four",
      columns: 20,
      indent: 9,
      rows: ["12:00:00 bob: one", "         two three", "         four"],
    },
    { name: "hard break without spaces", text: "abcdefghij", columns: 4, indent: 1, rows: ["abcd", " efg", " hij"] },
    { name: "wide chars count double", text: "가나다라", columns: 5, indent: 0, rows: ["가나", "다라"] },
    { name: "colour escapes take no room", text: "\x1b[90mab\x1b[39mcd", columns: 4, indent: 0, rows: ["\x1b[90mab\x1b[39mcd"] },
    { name: "tabs become spaces", text: "a\tb", columns: 40, indent: 0, rows: ["a       b"] },
    { name: "an indent too wide for the terminal is dropped", text: "abcdefgh", columns: 4, indent: 9, rows: ["abcd", "efgh"] },
  ];
  test.each(cases)("$name", ({ text, columns, indent, rows }) => {
    expect(wrapLine(text, columns, indent)).toEqual(rows);
    for (const row of rows) expect(Bun.stringWidth(row)).toBeLessThanOrEqual(columns);
  });
});

describe("mentions", () => {
  const cases = [
    { text: "hi alice", name: "alice", hits: 1 },
    { text: "hi ALICE!", name: "alice", hits: 1 },
    { text: "alice, alice.", name: "alice", hits: 2 },
    { text: "malice aforethought", name: "alice", hits: 0 },
    { text: "alice_2 is not alice2", name: "alice", hits: 0 },
    { text: "ask bo.b", name: "bo.b", hits: 1 },
    { text: "ask boxb", name: "bo.b", hits: 0 },
    { text: "alice-bot and alice.x and x.alice are other names", name: "alice", hits: 0 },
    { text: "(alice) alice- -alice", name: "alice", hits: 3 },
  ];
  test.each(cases)("$name in '$text': $hits", ({ text, name, hits }) => {
    expect(mentionRanges(text, name)).toHaveLength(hits);
  });
});

describe("tab completion candidates", () => {
  const names = ["alice", "Alan", "bob", "me"];
  const cases = [
    { word: "al", start: 0, want: ["Alan: ", "alice: "] },
    { word: "al", start: 5, want: ["Alan ", "alice "] },
    { word: "/m", start: 0, want: ["/me ", "/msg "] },
    { word: "/m", start: 3, want: [] },
    { word: "m", start: 4, want: [] },
    { word: "", start: 0, want: [] },
    { word: "B", start: 0, want: ["bob: "] },
  ];
  test.each(cases)("'$word' at $start", ({ word, start, want }) => {
    expect(candidates(word, start, names, "me")).toEqual(want);
  });
});

describe("the room's JSON events as read by the client", () => {
  test("strings are made safe to print; wrong types are dropped", () => {
    const event = parseEvent(JSON.stringify({ type: "message", from: "a\u001b[2J", text: "x\u0007y", id: 5, history: "yes" }));
    expect(event).toEqual({ type: "message", from: "a^[[2J", text: "x^Gy" });
  });
  test.each(["not json", "[1]", "null", '{"text":"no type"}'])("%s is not an event", (line) => {
    expect(parseEvent(line)).toBeNull();
  });
  test("plain lines as the wire shows them", () => {
    const cases: [RoomEvent, string][] = [
      [{ type: "message", from: "a", text: "hi" }, "a: hi"],
      [{ type: "message", from: "a", to: "b", text: "psst" }, "a -> b: psst"],
      [{ type: "notice", kind: "action", from: "a", text: "a waves" }, "** a waves"],
      [{ type: "join", name: "a", text: "a joined" }, "* a joined"],
      [{ type: "error", text: "no" }, "! no"],
    ];
    for (const [event, line] of cases) expect(plainLine(event)).toBe(line);
  });
});

describe("plain room lines read back (a server without /events)", () => {
  test("`** NAME ACTION` is an action; an older server's `* NAME ACTION` stays a notice", () => {
    expect(eventOfLine("** alice waves")).toEqual({ type: "notice", kind: "action", from: "alice", text: "alice waves" });
    expect(eventOfLine("* alice waves")).toEqual({ type: "notice", text: "alice waves" });
    expect(plainLine(eventOfLine("** alice waves"))).toBe("** alice waves");
    expect(plainLine(eventOfLine("* alice waves"))).toBe("* alice waves");
  });
});

describe("RoomLink", () => {
  const greeting = "* welcome, you are guest-4 (1 other here; /nick NAME to rename, /help for commands)";
  function link(lastId?: string, seen = new SeenLines(), room?: string) {
    const sent: string[] = [];
    const events: RoomEvent[] = [];
    const settled: string[] = [];
    const link = new RoomLink(
      greeting,
      { send: (l) => sent.push(l), event: (e) => events.push(e), settled: (f) => settled.push(f) },
      lastId,
      seen,
      room,
    );
    return { room: link, sent, events, settled };
  }
  const json = (value: object) => JSON.stringify({ ts: "2026-12-02T10:00:00.000Z", ...value });

  test("asks for JSON events, with the last id on a reconnect", () => {
    expect(link().sent).toEqual(["/events json"]);
    expect(link("17-3").sent).toEqual(["/events json after=17-3"]);
  });

  test("plain lines before the answer are dropped (they are replayed as JSON)", () => {
    const { room, events, settled } = link();
    room.line("bob: said before the switch");
    room.line(json({ type: "ready", name: "guest-4", members: ["bob", "guest-4"], replay: 1, complete: true }));
    room.line(json({ type: "message", id: "1-1", from: "bob", text: "said before the switch", history: true }));
    expect(settled).toEqual(["json"]);
    expect(events.map((e) => e.type)).toEqual(["ready", "message"]);
    expect(events[1]?.history).toBe(true);
    expect(room.last).toBe("1-1");
    expect([...room.members]).toEqual(["bob", "guest-4"]);
  });

  test("other plain lines before the answer (a join) are shown after the replay, once", () => {
    const { room, events } = link();
    room.line("bob: in the window");
    room.line("* carol joined");
    room.line(json({ type: "ready", name: "guest-4", members: ["bob", "carol", "guest-4"], replay: 1, complete: true }));
    // A ready is handed on with its replay, once that is whole (it counts what is shown).
    expect(events).toEqual([]);
    room.line(json({ type: "message", id: "1-1", from: "bob", text: "in the window", history: true }));
    room.line(json({ type: "message", id: "1-2", from: "bob", text: "live" }));
    expect(events.map((e) => [e.type, e.text])).toEqual([
      ["ready", ""],
      ["message", "in the window"],
      ["notice", "carol joined"],
      ["message", "live"],
    ]);
  });

  test("a replay after a reconnect leaves out the lines this client said (shown when typed), and ready counts the rest", () => {
    const seen = new SeenLines();
    const first = link(undefined, seen);
    first.room.line(json({ type: "ready", name: "ada", members: ["ada", "bob"], replay: 0 }));
    expect(first.room.own("said before the cut")).toEqual({ type: "message", from: "ada", text: "said before the cut" });
    const { room, events } = link("1-1", seen);
    room.line("ada: said before the cut");
    room.line(json({ type: "ready", name: "guest-9", members: ["bob", "guest-9"], replay: 2, complete: true }));
    room.line(json({ type: "message", id: "1-2", from: "ada", text: "said before the cut", history: true }));
    room.line(json({ type: "message", id: "1-3", from: "bob", text: "while away", history: true }));
    expect(events.map((e) => [e.type, e.text, e.replay])).toEqual([
      ["ready", "", 1],
      ["message", "while away", undefined],
    ]);
  });

  test("coming back to a room it had joined: /join first; the first room's window is dropped; an `already in` answer is not shown", () => {
    const moved = link("1-1", new SeenLines(), "dev");
    expect(moved.sent).toEqual(["/join dev", "/events json after=1-1"]);
    moved.room.line("carol: history of main");
    moved.room.line("* you are in room dev now (1 other here)");
    moved.room.line(json({ type: "ready", name: "guest-9", members: ["bob", "guest-9"], replay: 0, complete: true }));
    expect(moved.events.map((e) => [e.type, e.text])).toEqual([
      ["ready", ""],
      ["notice", "you are in room dev now (1 other here)"],
    ]);
    const home = link("1-1", new SeenLines(), "main");
    home.room.line("! you are already in main");
    home.room.line(json({ type: "ready", name: "guest-9", members: ["guest-9"], replay: 0, complete: true }));
    expect(home.events.map((e) => e.type)).toEqual(["ready"]);
    expect(home.settled).toEqual(["json"]);
    const refused = link("1-1", new SeenLines(), "ops");
    refused.room.line("! cannot join ops: connection refused");
    refused.room.line(json({ type: "ready", name: "guest-9", members: ["guest-9"], replay: 0, complete: true }));
    expect(refused.events.map((e) => [e.type, e.text])).toEqual([
      ["ready", ""],
      ["error", "cannot join ops: connection refused"],
    ]);
  });

  test("follows names and members from events", () => {
    const { room } = link();
    room.line(json({ type: "ready", name: "guest-4", members: ["guest-4"], replay: 0 }));
    room.line(json({ type: "notice", kind: "rename", from: "guest-4", to: "ada", text: "you are now ada" }));
    room.line(json({ type: "join", name: "bob", text: "bob joined" }));
    room.line(json({ type: "notice", kind: "rename", from: "bob", to: "rob", text: "bob is now rob" }));
    expect(room.me).toBe("ada");
    expect([...room.members].sort()).toEqual(["ada", "rob"]);
    room.line(json({ type: "leave", name: "rob", reason: "quit", text: "rob left" }));
    expect([...room.members]).toEqual(["ada"]);
  });

  test("a server without /events: the held lines are shown as text and names follow notices", () => {
    const { room, events, settled } = link();
    room.line("bob: early");
    room.line("! unknown command /events (try /help)");
    room.line("* guest-4 is now ada");
    expect(settled).toEqual(["text"]);
    expect(events).toEqual([
      { type: "message", from: "bob", to: undefined, text: "early" },
      { type: "notice", text: "guest-4 is now ada" },
    ]);
    expect(room.me).toBe("ada");
  });

  test("without /events an action (`** `) is never taken for a rename", () => {
    const { room, events } = link();
    room.line("! unknown command /events (try /help)");
    room.line("** you are now mallory");
    room.line("** guest-4 is now mallory");
    expect(room.me).toBe("guest-4");
    expect(events).toEqual([
      { type: "notice", kind: "action", from: "you", text: "you are now mallory" },
      { type: "notice", kind: "action", from: "guest-4", text: "guest-4 is now mallory" },
    ]);
  });
});

describe("telling a room from other servers by its first bytes", () => {
  function probe(...chunks: string[]): { verdict?: Verdict; rest?: string; greeting?: string } {
    const result: { verdict?: Verdict; rest?: string; greeting?: string } = {};
    const p = new Probe((verdict, bytes, greeting) => {
      Object.assign(result, { verdict, rest: new TextDecoder().decode(bytes), greeting });
    });
    for (const chunk of chunks) p.push(new TextEncoder().encode(chunk));
    return result;
  }
  const greeting = "* welcome, you are guest-1 (0 others here; /nick NAME to rename, /help for commands)";
  test("a greeting split over reads, then the rest", () => {
    expect(probe("* welc", `ome, you are guest-1 (0 others here; /nick NAME to rename, /help for commands)\nbob: hi\n`)).toEqual({
      verdict: "room",
      rest: "bob: hi\n",
      greeting,
    });
  });
  test("anything else is decided at the first byte that differs, with nothing held", () => {
    expect(probe("x")).toEqual({ verdict: "other", rest: "x", greeting: undefined });
    expect(probe("* w", "elcome!")).toEqual({ verdict: "other", rest: "* welcome!", greeting: undefined });
  });
  test("undecided while it could still be a greeting", () => {
    expect(probe("* welcome, you are gue")).toEqual({});
  });
});

test("reconnect delays: 0.25 s doubling to 5 s, within ±20 %", () => {
  for (const [attempt, base] of [
    [0, 250],
    [1, 500],
    [4, 4000],
    [5, 5000],
    [12, 5000],
  ] as const) {
    for (let i = 0; i < 20; i++) {
      const delay = backoff(attempt);
      expect(delay).toBeGreaterThanOrEqual(base * 0.8);
      expect(delay).toBeLessThanOrEqual(base * 1.2);
    }
  }
});
