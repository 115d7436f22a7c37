/**
 * Tables for the pure parts of the room's features: parsing the new
 * commands, the new events' lines and JSON, notices no member can forge,
 * bans, ignores, and the fan-out's exclusions for members that ignore a
 * sender.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { decodeInfo, encodeInfo } from "../src/cluster/roster.ts";
import { type ChatEvent, eventJson, eventLine, parseLine } from "../src/events.ts";
import { Conn, type ConnRef } from "../src/net/conn.ts";
import { BanList, banCovers, banTarget, decodeBan, encodeBan } from "../src/room/bans.ts";
import { CONSOLE_HELP, HELP, parseInput } from "../src/room/commands.ts";
import { Fanout } from "../src/room/fanout.ts";
import type { FanoutBatch } from "../src/room/fanout-batch.ts";
import { Ignores } from "../src/room/ignores.ts";
import type { Member } from "../src/room/members.ts";
import { costOf } from "../src/room/rate.ts";
import { wireJson } from "../src/room/wire.ts";
import { humanDuration, parseDuration } from "../src/text/units.ts";

describe("parsing the room's commands", () => {
  const cases: [string, unknown][] = [
    ["/away", { kind: "away", text: "" }],
    ["/away  gone fishing ", { kind: "away", text: "gone fishing" }],
    ["/back", { kind: "back" }],
    ["/ignore", { kind: "ignore" }],
    ["/ignore bob", { kind: "ignore", name: "bob" }],
    ["/ignore a b", { kind: "usage", text: "/ignore [NAME]" }],
    ["/unignore bob", { kind: "unignore", name: "bob" }],
    ["/unignore", { kind: "usage", text: "/unignore NAME" }],
    ["/whois bob", { kind: "whois", name: "bob" }],
    ["/whois", { kind: "usage", text: "/whois NAME" }],
    ["/topic", { kind: "topic" }],
    ["/topic release friday", { kind: "topic", text: "release friday" }],
    ["/topic -", { kind: "topic", text: "" }],
    ["/quit", { kind: "quit" }],
    ["/quit see you all", { kind: "quit", text: "see you all" }],
    ["/exit bye", { kind: "quit", text: "bye" }],
    ["/kick bob", { kind: "kick", name: "bob" }],
    ["/kick bob flooding the room", { kind: "kick", name: "bob", reason: "flooding the room" }],
    ["/kick", { kind: "usage", text: "/kick NAME [REASON]" }],
    ["/ban bob", { kind: "ban", target: "bob" }],
    ["/ban bob 2h", { kind: "ban", target: "bob", ms: 7_200_000 }],
    ["/ban bob 7d spam", { kind: "ban", target: "bob", ms: 7 * 86_400_000, reason: "spam" }],
    ["/ban 10.0.0.0/8 90 scans", { kind: "ban", target: "10.0.0.0/8", ms: 90_000, reason: "scans" }],
    ["/ban bob spam 2h", { kind: "ban", target: "bob", reason: "spam 2h" }],
    ["/ban bob 0", { kind: "usage", text: "/ban NAME|CIDR [DURATION] [REASON]" }],
    ["/ban", { kind: "usage", text: "/ban NAME|CIDR [DURATION] [REASON]" }],
    ["/bans", { kind: "bans" }],
    ["/unban ::1", { kind: "unban", target: "::1" }],
    ["/mute bob", { kind: "mute", name: "bob", on: true }],
    ["/unmute bob", { kind: "mute", name: "bob", on: false }],
    ["/constructor", { kind: "unknown", command: "/constructor" }],
    ["/toString x", { kind: "unknown", command: "/toString" }],
  ];
  test.each(cases)("%p", (line, input) => expect(parseInput(line)).toEqual(input as never));

  test("free text is cut to 200 characters, whole code points", () => {
    const input = parseInput(`/away ${"é".repeat(150)}${"😀".repeat(100)}`);
    expect(input.kind === "away" && [...input.text].length).toBe(200);
    expect(input.kind === "away" && input.text.endsWith("😀")).toBe(true);
  });

  const costs: [string, string][] = [
    ["/away lunch", "command"],
    ["/back", "command"],
    ["/whois bob", "command"],
    ["/ignore bob", "command"],
    ["/topic x", "command"],
    ["/quit bye", "free"],
  ];
  test.each(costs)("costOf(%p) is %p", (text, cost) => expect(costOf(text)).toBe(cost as never));
});

describe("durations", () => {
  const durations: [string, number | null][] = [
    ["7d", 7 * 86_400_000],
    ["1.5d", 129_600_000],
  ];
  test.each(durations)("parse %p", (text, ms) => expect(parseDuration(text)).toBe(ms));
  const human: [number, string][] = [
    [0, "0s"],
    [999, "0s"],
    [40_000, "40s"],
    [60_000, "1m"],
    [723_000, "12m 3s"],
    [7_500_000, "2h 5m"],
    [7_203_000, "2h"],
    [266_400_000, "3d 2h"],
    [-5, "0s"],
  ];
  test.each(human)("humanDuration(%p) is %p", (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe("the new events", () => {
  const at = Date.parse("2026-12-02T10:00:00.000Z");
  const table: [ChatEvent, string, Record<string, unknown>][] = [
    [
      { type: "away", name: "bob", away: true, message: "lunch" },
      "* bob is away: lunch",
      { type: "away", name: "bob", away: true, message: "lunch", text: "bob is away: lunch" },
    ],
    [{ type: "away", name: "bob", away: true }, "* bob is away", { type: "away", name: "bob", away: true, text: "bob is away" }],
    [{ type: "away", name: "bob", away: false }, "* bob is back", { type: "away", name: "bob", away: false, text: "bob is back" }],
    [
      { type: "topic", topic: "release", by: "server", at },
      "* server set the topic: release",
      { type: "topic", topic: "release", by: "server", at: "2026-12-02T10:00:00.000Z", text: "server set the topic: release" },
    ],
    [
      { type: "topic", topic: "release", by: "server", at, current: true },
      "* topic (set by server): release",
      {
        type: "topic",
        topic: "release",
        by: "server",
        at: "2026-12-02T10:00:00.000Z",
        current: true,
        text: "topic (set by server): release",
      },
    ],
    [
      { type: "topic", topic: "", by: "alice", at },
      "* alice cleared the topic",
      { type: "topic", topic: "", by: "alice", at: "2026-12-02T10:00:00.000Z", text: "alice cleared the topic" },
    ],
    [
      { type: "ban", target: "bob", until: at, reason: "spam", by: "server" },
      "* bob is banned until 2026-12-02 10:00:00 UTC: spam",
      {
        type: "ban",
        target: "bob",
        until: "2026-12-02T10:00:00.000Z",
        reason: "spam",
        by: "server",
        text: "bob is banned until 2026-12-02 10:00:00 UTC: spam",
      },
    ],
    [
      { type: "ban", target: "10.0.0.0/8", by: "server" },
      "* 10.0.0.0/8 is banned until /unban",
      { type: "ban", target: "10.0.0.0/8", by: "server", text: "10.0.0.0/8 is banned until /unban" },
    ],
    [
      { type: "ban", target: "bob", by: "server", lifted: true },
      "* bob is no longer banned",
      { type: "ban", target: "bob", by: "server", lifted: true, text: "bob is no longer banned" },
    ],
    [
      { type: "leave", name: "bob", reason: "kicked", message: "flooding" },
      "* bob was kicked (flooding)",
      { type: "leave", name: "bob", reason: "kicked", message: "flooding", text: "bob was kicked (flooding)" },
    ],
    [
      { type: "leave", name: "bob", reason: "banned", message: "spam" },
      "* bob was banned (spam)",
      { type: "leave", name: "bob", reason: "banned", message: "spam", text: "bob was banned (spam)" },
    ],
    [
      { type: "leave", name: "bob", reason: "banned" },
      "* bob was banned",
      { type: "leave", name: "bob", reason: "banned", text: "bob was banned" },
    ],
    [
      { type: "leave", name: "bob", reason: "quit", message: "see you" },
      "* bob left (see you)",
      { type: "leave", name: "bob", reason: "quit", message: "see you", text: "bob left (see you)" },
    ],
  ];
  test.each(table)("%p", (event, line, json) => {
    expect(eventLine(event)).toBe(line);
    const { ts, ...wire } = JSON.parse(wireJson(event, at)) as Record<string, unknown>;
    expect(ts).toBe("2026-12-02T10:00:00.000Z");
    expect(wire).toEqual(json);
    // The server's --json has the same fields.
    const { ts: _, ...server } = JSON.parse(eventJson(event, new Date(at))) as Record<string, unknown>;
    expect(server.type).toBe(json.type);
    if (event.type !== "leave") expect(server).toEqual(json);
  });
});

describe("no member can forge a notice", () => {
  // Every notice line the room sends, old and new. A member chooses an action, an away text, a
  // topic (where members may), a /quit text: none of what that makes is any of these lines.
  const server: string[] = [
    "* bob joined",
    ...["quit", "closed", "too slow", "timed out", "kicked", "banned", "error", "shutdown", "lost"].map((reason) =>
      eventLine({ type: "leave", name: "bob", reason: reason as "quit" }),
    ),
    "* bob was kicked (flooding)",
    "* bob was banned (spam)",
    "* bob is now alice",
    "* server set the topic: x",
    "* topic (set by server): x",
    "* no topic is set",
    "* server shutting down",
    "* bob is back",
    ...[...HELP, ...CONSOLE_HELP].map((l) => `* ${l}`),
  ];
  const texts = ["too slow", "Too Slow", " connection lost ", "server lost", "bob joined", "* bob joined", "back", ")", "(flooding)"];
  test.each(server)("%s", (notice) => {
    for (const text of texts) {
      for (const made of [
        eventLine({ type: "action", from: "eve", text }),
        eventLine({ type: "away", name: "eve", away: true, message: text }),
        eventLine({ type: "topic", topic: text, by: "eve", at: 0 }),
        eventLine({ type: "leave", name: "eve", reason: "quit", message: text }),
      ]) {
        expect(made).not.toBe(notice);
        // A line that names eve is about eve: the only thing eve chose comes after what the server says.
        expect(made.startsWith("* eve ") || made.startsWith("** eve ")).toBe(true);
      }
    }
  });
  test("a /quit text that reads as one of the server's reasons is quoted", () => {
    expect(eventLine({ type: "leave", name: "bob", reason: "quit", message: "too slow" })).toBe('* bob left ("too slow")');
    expect(eventLine({ type: "leave", name: "bob", reason: "quit", message: "server  LOST" })).toBe('* bob left ("server  LOST")');
    expect(eventLine({ type: "leave", name: "bob", reason: "quit", message: "too slow today" })).toBe("* bob left (too slow today)");
    expect(parseLine('* bob left ("too slow")')).toEqual({ type: "notice", text: 'bob left ("too slow")' });
  });
});

describe("bans", () => {
  test("targets: an address or a block when it reads as one, else a name", () => {
    expect(banTarget("10.0.0.7")).toEqual({ key: "address:10.0.0.7", target: "10.0.0.7", kind: "address" });
    expect(banTarget("10.0.0.0/8")).toEqual({ key: "address:10.0.0.0/8", target: "10.0.0.0/8", kind: "address" });
    expect(banTarget("::1")).toEqual({ key: "address:::1", target: "::1", kind: "address" });
    expect(banTarget("Bob")).toEqual({ key: "name:bob", target: "Bob", kind: "name" });
    expect(banTarget("bad:name")).toBeNull();
    expect(banTarget("10.0.0.0/99")).toBeNull();
  });

  test("in force until their time; by name regardless of case; by block for every address in it", () => {
    const list = new BanList();
    const now = 1_000_000;
    list.set({ key: "name:bob", target: "bob", kind: "name", until: now + 1000, reason: "", by: "server" });
    list.set({ key: "address:10.0.0.0/8", target: "10.0.0.0/8", kind: "address", until: null, reason: "scan", by: "server" });
    expect(list.name("BOB", now)?.target).toBe("bob");
    expect(list.name("bob", now + 1000)).toBeUndefined();
    expect(list.address("10.1.2.3", now)?.reason).toBe("scan");
    expect(list.address("::ffff:10.1.2.3", now)?.reason).toBe("scan");
    expect(list.address("11.0.0.1", now)).toBeUndefined();
    expect(list.address("", now)).toBeUndefined();
    expect(list.list(now + 1000).map((b) => b.target)).toEqual(["10.0.0.0/8"]);
    expect(list.lift("address:10.0.0.0/8")?.target).toBe("10.0.0.0/8");
    expect(list.list(now)).toEqual([]);
  });

  test("who a ban removes now: by name, by block; an address banned with a name removes no one", () => {
    const base = { until: null, reason: "", by: "server" };
    expect(banCovers({ key: "name:bob", target: "bob", kind: "name", ...base }, "BOB", "1.2.3.4")).toBe(true);
    expect(banCovers({ key: "address:1.2.3.0/24", target: "1.2.3.0/24", kind: "address", ...base }, "x", "1.2.3.4")).toBe(true);
    expect(banCovers({ key: "address:1.2.3.4", target: "1.2.3.4", kind: "address", of: "bob", ...base }, "x", "1.2.3.4")).toBe(false);
    expect(banCovers({ key: "name:bob", target: "bob", kind: "name", ...base, until: 5 }, "bob", "", 5)).toBe(false);
  });

  test("as Redis keeps them: every field back, tabs in a reason included", () => {
    const ban = { key: "address:::1", target: "::1", kind: "address" as const, until: 123, reason: "a\tb", by: "n1", of: "bob" };
    expect(decodeBan(ban.key, encodeBan(ban))).toEqual(ban);
    const plain = { key: "name:bob", target: "bob", kind: "name" as const, until: null, reason: "", by: "server" };
    expect(decodeBan(plain.key, encodeBan(plain))).toEqual(plain);
    expect(decodeBan("other:x", "1\ta\t\tb")).toBeNull();
  });

  test("a member's published info round-trips (away text with tabs; here; unknown)", () => {
    for (const p of [
      { since: 5, peer: "[::1]:5", address: "::1", away: "out\tback soon" },
      { since: 5, peer: "1.2.3.4:5", address: "1.2.3.4", away: "" },
      { since: null, peer: "", address: "", away: null },
    ]) {
      expect(decodeInfo(encodeInfo(p))).toEqual(p);
    }
  });
});

/** A member for the tables below: only what Ignores reads. */
const member = (name: string) => ({ name, ignoring: null }) as unknown as Member;

describe("ignores", () => {
  test("by name regardless of case; following renames; forgotten with the member", () => {
    const ignores = new Ignores();
    const alice = member("alice");
    const carol = member("carol");
    expect(ignores.of("bob")).toBeUndefined();
    ignores.add(alice, "bob");
    ignores.add(carol, "Bob");
    expect(ignores.of("BOB")).toEqual([alice, carol]);
    expect(ignores.hides(alice, "bob")).toBe(true);
    ignores.renamed("bob", "robert");
    expect(ignores.of("bob")).toBeUndefined();
    expect(ignores.of("robert")).toEqual([alice, carol]);
    expect([...(alice.ignoring?.values() ?? [])]).toEqual(["robert"]);
    ignores.forget(alice);
    expect(ignores.of("robert")).toEqual([carol]);
    expect(ignores.remove(carol, "ROBERT")).toBe(true);
    expect(ignores.of("robert")).toBeUndefined();
    expect(ignores.remove(carol, "robert")).toBe(false);
  });
});

describe("the fan-out leaves an ignored sender's lines out for those that ignore it", () => {
  const decoder = new TextDecoder();
  const text = (bytes: Uint8Array | null) => (bytes ? decoder.decode(bytes) : null);

  test("only members that ignore the sender get a copy of their own, and only of batches with its lines", () => {
    const batches: FanoutBatch<string>[] = [];
    const fanout = new Fanout<string>((batch) => batches.push(batch));
    fanout.add("carol: hi\n", "carol");
    fanout.flush();
    fanout.add("bob: one\n", "bob", undefined, ["alice"]);
    fanout.add("bob: two\n", "bob", undefined, ["alice", "dave"]);
    fanout.add("* bob joined\n");
    fanout.add("carol: three\n", "carol");
    fanout.flush();
    fanout.add("dave: four\n", "dave");
    fanout.add("* erin joined\n");
    fanout.flush();
    const [first, second, third] = batches;
    // No ignores: one shared chunk for everyone (the same bytes object), nothing for its sender.
    expect(first?.for("alice")).toBe(first?.bytes ?? null);
    expect(first?.for("carol")).toBeNull();
    // One sender's line and a notice: the sender's copy has the notice only.
    expect(third?.for("alice")).toBe(third?.bytes ?? null);
    expect(text(third?.for("dave") ?? null)).toBe("* erin joined\n");
    expect(text(second?.for("erin") ?? null)).toBe("bob: one\nbob: two\n* bob joined\ncarol: three\n");
    expect(text(second?.for("alice") ?? null)).toBe("* bob joined\ncarol: three\n");
    expect(text(second?.for("dave") ?? null)).toBe("bob: one\n* bob joined\ncarol: three\n");
    expect(text(second?.for("bob") ?? null)).toBe("* bob joined\ncarol: three\n");
    expect(text(second?.for("carol") ?? null)).toBe("bob: one\nbob: two\n* bob joined\n");
  });
});

describe("a connection's sends: one small write at once per turn, the rest gathered", () => {
  /** A socket whose kernel takes everything; it records each write. */
  function recordingConn(): { conn: Conn; writes: string[] } {
    const writes: string[] = [];
    const socket = {
      write(bytes: Uint8Array) {
        writes.push(new TextDecoder().decode(bytes));
        return bytes.length;
      },
    };
    return { conn: new Conn(socket as unknown as Socket<ConnRef>, "test"), writes };
  }
  const bytes = (s: string) => new TextEncoder().encode(s);
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  test("the first line of a turn goes at once; the next ones go together at the turn's end; the next turn starts again", async () => {
    const a = recordingConn();
    const b = recordingConn();
    a.conn.send(bytes("one\n"));
    b.conn.send(bytes("one\n"));
    expect(a.writes).toEqual(["one\n"]);
    a.conn.send(bytes("two\n"));
    a.conn.send(bytes("three\n"));
    expect(a.writes).toEqual(["one\n"]);
    await nextTurn();
    expect(a.writes).toEqual(["one\n", "two\nthree\n"]);
    expect(b.writes).toEqual(["one\n"]);
    a.conn.send(bytes("four\n"));
    expect(a.writes).toEqual(["one\n", "two\nthree\n", "four\n"]);
    await nextTurn();
    expect(a.writes.length).toBe(3);
  });
});
