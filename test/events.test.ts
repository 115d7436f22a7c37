/** JSON events for the clients that ask (`/events json`, docs/events.md) in a room over loopback; the encoding's tables are in wire.test.ts. */
import { describe, expect, test } from "bun:test";
import { JOIN_GRACE_MS } from "../src/room/room.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import { type RawClient, until } from "./helpers.ts";

type Json = Record<string, unknown>;
const objects = (c: RawClient): Json[] => c.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Json);
const waitObject = (c: RawClient, match: Json, timeoutMs = 5000): Promise<Json> =>
  until(
    () => objects(c).find((o) => Object.entries(match).every(([k, v]) => JSON.stringify(o[k]) === JSON.stringify(v))),
    `an object like ${JSON.stringify(match)} (have: ${JSON.stringify(c.lines.slice(-3))})`,
    timeoutMs,
  );

/** Switches `c` to JSON; returns its `ready` object. */
async function toJson(c: RawClient, after?: string): Promise<Json> {
  const before = objects(c).filter((o) => o.type === "ready").length;
  await c.write(after ? `/events json after=${after}\n` : "/events json\n");
  return until(() => objects(c).filter((o) => o.type === "ready")[before], "the ready object");
}

const messages = (c: RawClient) => objects(c).filter((o) => o.type === "message" && o.to === undefined);

describe("room: /events json", () => {
  test("ready names the connection and everyone, then JSON from then on; /events text goes back", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    const ready = await toJson(b);
    expect(Object.keys(ready)).toEqual(["ts", "type", "name", "members", "replay", "complete"]);
    expect(ready).toMatchObject({ type: "ready", name: "bob", members: ["alice", "bob", "server"], replay: 0, complete: true });
    expect(Number.isNaN(Date.parse(String(ready.ts)))).toBe(false);
    await a.write("hi\n");
    await waitObject(b, { type: "message", from: "alice", text: "hi" });
    await b.write("/events text\n");
    await a.write("plain again\n");
    await b.waitLine("alice: plain again");
    expect(b.lines.filter((l) => l.startsWith("{")).length).toBe(2);
  });

  test("history is replayed with each line's own id and time, marked history", async () => {
    await using s = await testServer({ history: 5 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("first\n/me waves\n");
    await b.waitLine("** alice waves");
    const saidBy = Date.now();
    // Time passing is what is tested: the replayed line keeps the time it was said, not the time of the switch.
    await Bun.sleep(60);
    const ready = await toJson(b);
    expect(ready).toMatchObject({ replay: 2, complete: true });
    const [first, action] = objects(b).slice(1);
    expect(first).toMatchObject({ type: "message", from: "alice", text: "first", history: true });
    expect(action).toMatchObject({ type: "notice", kind: "action", from: "alice", text: "alice waves", history: true });
    expect(Object.keys(first ?? {})).toEqual(["id", "ts", "type", "from", "text", "history"]);
    expect(Date.parse(String(first?.ts))).toBeLessThanOrEqual(saidBy);
    expect(Date.parse(String(ready.ts)) - Date.parse(String(first?.ts))).toBeGreaterThanOrEqual(50);
  });

  test("ids increase by one per room line; after=ID replays exactly the later ones", async () => {
    await using s = await testServer({ history: 0 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await toJson(b);
    for (let i = 1; i <= 6; i++) await a.write(i % 2 ? `line ${i}\n` : `l\u00efne ${i}\n`);
    await waitObject(b, { text: "l\u00efne 6" });
    const ids = messages(b).map((o) => String(o.id));
    const [start0, ...rest] = ids.map((id) => id.split("-"));
    for (const [i, [startN, seq]] of rest.entries()) {
      expect(startN).toBe(start0?.[0]);
      expect(Number(seq)).toBe(Number(start0?.[1]) + i + 1);
    }
    using c = await testMember(s.port, "carol");
    const ready = await toJson(c, ids[2]);
    expect(ready).toMatchObject({ replay: 3, complete: true });
    await a.write("line 7\n");
    await waitObject(c, { text: "line 7" });
    expect(messages(c).map((o) => [o.id, o.text, o.history])).toEqual([
      [ids[3], "l\u00efne 4", true],
      [ids[4], "line 5", true],
      [ids[5], "l\u00efne 6", true],
      [expect.any(String), "line 7", undefined],
    ]);
  });

  test("after=ID from another start (a restart) gives everything held, not complete", async () => {
    await using s = await testServer({ history: 0 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("one\ntwo\n");
    await b.waitLine("alice: two");
    using c = await testMember(s.port, "carol");
    expect(await toJson(c, "1-1")).toMatchObject({ replay: 2, complete: false });
    expect(messages(c).map((o) => o.text)).toEqual(["one", "two"]);
  });

  test("a replay too big to send at once keeps the newest lines and says it is not complete", async () => {
    await using s = await testServer({ history: 0, maxQueue: 64 * 1024 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    const sent = Array.from({ length: 100 }, (_, i) => `${i} ${"x".repeat(1000)}`);
    await a.write(`${sent.join("\n")}\n`);
    await b.waitLine(`alice: ${sent[99]}`);
    using c = await testMember(s.port, "carol");
    const ready = await toJson(c, "1-1");
    expect(ready.complete).toBe(false);
    expect(Number(ready.replay)).toBeGreaterThan(10);
    expect(Number(ready.replay)).toBeLessThan(40);
    await until(() => messages(c).length === ready.replay, "the replay");
    expect(messages(c).map((o) => o.text)).toEqual(sent.slice(-Number(ready.replay)));
    await a.write("still here\n");
    await waitObject(c, { text: "still here" });
  });

  test("a line said between the greeting and the switch is replayed, even with --history 0; not the switcher's own", async () => {
    await using s = await testServer({ history: 0 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("between\n");
    await b.write("mine\n");
    await b.waitLine("alice: between");
    await a.waitLine("bob: mine");
    expect(await toJson(b)).toMatchObject({ replay: 1 });
    expect(messages(b)).toEqual([
      { id: expect.any(String), ts: expect.any(String), type: "message", from: "alice", text: "between", history: true },
    ]);
  });

  test("every event as JSON with the documented fields, no peer; a JSON sender does not get its own line", async () => {
    await using s = await testServer({ maxLine: 64 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await toJson(b);
    await a.write("hi\nh\u00e9llo\n/me waves\n/nick alicia\n");
    await waitObject(b, { type: "message", from: "alice", text: "hi" });
    await waitObject(b, { type: "notice", kind: "rename", from: "alice", to: "alicia", text: "alice is now alicia" });
    await waitObject(b, { type: "message", from: "alice", text: "h\u00e9llo" });
    await waitObject(b, { type: "notice", kind: "action", from: "alice", text: "alice waves" });
    using c = await testMember(s.port, "carol");
    await waitObject(b, { type: "join", name: "carol", text: "carol joined" });
    await c.write("/quit\n");
    await waitObject(b, { type: "leave", name: "carol", reason: "quit", text: "carol left" });
    await a.write("/msg bob psst\n");
    await waitObject(b, { type: "message", from: "alicia", to: "bob", text: "psst" });
    await b.write("/msg alicia back\n");
    await waitObject(b, { type: "message", from: "bob", to: "alicia", text: "back" });
    await b.write(`mine\n/me nods\nm\u00efne\n/nick alicia\n/nick bad:name\n/dance\n/who\n${"z".repeat(80)}\n`);
    await waitObject(b, { type: "error", code: "name-taken", text: "the name alicia is taken" });
    await waitObject(b, { type: "error", code: "name-invalid" });
    await waitObject(b, { type: "error", code: "unknown-command", text: "unknown command /dance (try /help)" });
    await waitObject(b, { type: "notice", kind: "who", members: ["alicia", "bob", "server"], text: "3 here: alicia, bob, server" });
    await waitObject(b, { type: "error", code: "line-cut", text: "line too long: cut at 64 bytes" });
    await a.waitLine(`bob: ${"z".repeat(64)}`);
    expect(a.lines).toContain("bob: mine");
    expect(a.lines).toContain("** bob nods");
    const seen = objects(b);
    for (const o of seen) {
      expect(o.peer).toBeUndefined();
      expect(typeof o.ts).toBe("string");
      expect(typeof o.text).toBe(o.type === "ready" ? "undefined" : "string");
    }
    expect(seen.filter((o) => o.from === "bob" && o.to === undefined)).toEqual([]);
    expect(seen.filter((o) => typeof o.id === "string").map((o) => o.text)).toEqual(["hi", "h\u00e9llo", "alice waves"]);
    s.say("/kick bob");
    await waitObject(b, { type: "error", code: "kicked", text: "you were kicked" });
  });

  test("bye and shutdown notices carry their kind", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await toJson(a);
    await toJson(b);
    await b.write("/quit\n");
    await waitObject(b, { type: "notice", kind: "bye", text: "bye" });
    await waitObject(a, { type: "leave", name: "bob", reason: "quit" });
    await s.close();
    await waitObject(a, { type: "notice", kind: "shutdown", text: "server shutting down" });
  });

  test("/events bogus is a usage error, in the connection's format", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    await a.write("/events bogus\n");
    await a.waitLine("! usage: /events json [after=ID] | text");
    await toJson(a);
    await a.write("/events json after\n");
    await waitObject(a, { type: "error", text: "usage: /events json [after=ID] | text" });
  });

  test("/events json as a newcomer's first line does not announce it: the /nick after it does", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testClient(s.port);
    await b.waitLine(/^\* welcome/);
    await toJson(b);
    const named = Date.now();
    await b.write("/nick x\n");
    await a.waitLine("* x joined");
    expect(Date.now() - named).toBeLessThan(JOIN_GRACE_MS);
    expect(a.lines.some((l) => l.includes("guest-2"))).toBe(false);
    await waitObject(b, { type: "notice", kind: "rename", text: "you are now x" });
  });

  for (const path of ["line by line", "many lines at once"]) {
    test(`a 5,000-line flood reaches a plain and a JSON member, every line in order (${path})`, async () => {
      // A printer of relayed bytes makes the room take plain lines many at a time (s.linesPerPrint).
      await using s = await testServer({ history: 0, relay: path === "line by line" ? "events" : "bytes" });
      using sender = await testMember(s.port, "s");
      using plain = await testMember(s.port, "plain");
      using json = await testMember(s.port, "json");
      await toJson(json);
      const sent = Array.from({ length: 5000 }, (_, i) => (i === 2500 ? "/me waves mid-flood" : `line ${i} "q" \\ ${"x".repeat(i % 40)}`));
      await sender.write(`${sent.join("\n")}\n`);
      await plain.waitLine(`s: ${sent[4999]}`, 20_000);
      await waitObject(json, { text: sent[4999] }, 20_000);
      const expected = sent.map((l) => (l.startsWith("/me ") ? `** s ${l.slice(4)}` : `s: ${l}`));
      expect(plain.lines.filter((l) => l.startsWith("s: ") || l.startsWith("** s "))).toEqual(expected);
      const got = objects(json).filter((o) => o.from === "s");
      expect(got.map((o) => (o.kind === "action" ? `** ${o.text}` : `s: ${o.text}`))).toEqual(expected);
      const seqs = got.map((o) => Number(String(o.id).split("-")[1]));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
      if (path !== "line by line") expect(Math.max(...s.linesPerPrint)).toBeGreaterThan(50);
    });
  }
});
