/**
 * Several rooms on one server (`/join`, `/rooms`), over real loopback
 * sockets with raw clients (what nc sends and sees): lines stay in their
 * room, each room has its own history, `/who` and topic, moves are
 * announced in both rooms, names are unique server-wide, `/msg` crosses rooms.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { testClient, testMember, testServer } from "./fixture.ts";
import { cliServer, type RawClient, until } from "./helpers.ts";

/** `c` joins `room` and has been told it is there (rooms are named as first joined, found regardless of case). */
async function join(c: RawClient, room: string, shown = room): Promise<void> {
  await c.write(`/join ${room}\n`);
  await c.waitLine(new RegExp(`^\\* you are in room ${shown} now \\(`));
}

const objects = (c: RawClient) => c.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("rooms", () => {
  test("a line said in one room never reaches a member of another; moves are announced in both rooms", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    using carol = await testMember(s.port, "carol");
    await alice.waitLine("* carol joined");
    await join(bob, "ops");
    await alice.waitLine("* bob left (joined ops)");
    await carol.waitLine("* bob left (joined ops)");
    await join(carol, "ops");
    await bob.waitLine("* carol joined");
    await carol.write("in ops\n");
    await bob.waitLine("carol: in ops");
    await alice.write("in main\n");
    await s.say("console in main");
    await alice.waitLine("server: console in main");
    await bob.write("ops again\n");
    await carol.waitLine("bob: ops again");
    // Every line above reached its own room; none the other.
    expect(alice.lines).not.toContain("carol: in ops");
    expect(alice.lines).not.toContain("bob: ops again");
    expect(bob.lines).not.toContain("alice: in main");
    expect(bob.lines).not.toContain("server: console in main");
    expect(carol.lines).not.toContain("alice: in main");
  });

  test("each room has its own history, /who and topic; an empty room is forgotten", async () => {
    await using s = await testServer({ history: 10 });
    using alice = await testMember(s.port, "alice");
    await alice.write("said in main\n");
    await join(alice, "dev");
    await alice.write("said in dev\n/topic\n");
    await alice.waitLine("* no topic is set");
    using bob = await testMember(s.port, "bob");
    await bob.waitLine("alice: said in main");
    s.say("/topic main things");
    await bob.waitLine("* server set the topic: main things");
    await join(bob, "dev");
    await bob.waitLine("alice: said in dev");
    expect(bob.lines.filter((l) => l.endsWith("said in main"))).toHaveLength(1);
    await bob.write("/who\n");
    await bob.waitLine("* 2 here: alice, bob");
    await bob.write("/rooms\n");
    await bob.waitLine("* 2 rooms: main (1), dev (2); you are in dev (/join NAME to move)");
    await bob.write("bob in dev\n");
    await alice.waitLine("bob: bob in dev");
    await join(bob, "main");
    await bob.waitLine("* topic (set by server): main things");
    await bob.write("/who\n");
    await bob.waitLine("* 2 here: bob, server");
    await join(alice, "MAIN", "main");
    // dev was left empty: forgotten, with its history.
    await alice.write("/rooms\n");
    await alice.waitLine("* 1 room: main (3); you are in main (/join NAME to move)");
    await join(alice, "dev");
    await alice.write("/who\n");
    await alice.waitLine("* 1 here: alice");
    expect(alice.lines.filter((l) => l === "bob: bob in dev")).toHaveLength(1);
  });

  test("/msg reaches a member in another room; names stay unique across rooms", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "ops");
    await alice.write("/msg bob over there?\n");
    await bob.waitLine("alice -> bob: over there?");
    await alice.waitLine("alice -> bob: over there?");
    await bob.write("/msg ALICE yes\n");
    await alice.waitLine("bob -> alice: yes");
    await alice.write("/nick Bob\n");
    await alice.waitLine("! the name bob is taken");
    await bob.write("/nick alice\n");
    await bob.waitLine("! the name alice is taken");
    await bob.write("/nick server\n");
    await bob.waitLine("! the name server is taken");
    await bob.write("/whois alice\n");
    await bob.waitLine(/^\* alice: here since /);
  });

  test("lines sent right after /join go to the new room; bad names are refused", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "ops");
    await alice.write("/join ops\nfirst in ops\nsecond in ops\n");
    await bob.waitLine("alice: second in ops");
    expect(bob.lines.filter((l) => l.startsWith("alice: "))).toEqual(["alice: first in ops", "alice: second in ops"]);
    expect(
      s
        .messages()
        .filter((e) => e.from === "alice")
        .map((e) => e.text),
    ).toEqual(["first in ops", "second in ops"]);
    await alice.write("/join ops\n");
    await alice.waitLine("! you are already in ops");
    await alice.write("/join no/slash\n");
    await alice.waitLine(/^! invalid room: /);
    await alice.write(`/join ${"x".repeat(65)}\n`);
    await alice.waitLine(/^! invalid room: /);
    await alice.write("/join\n");
    await alice.waitLine("! usage: /join ROOM");
  });

  test("the server's output labels what happens in rooms other than main: text, --json and --log", async () => {
    await using plain = await cliServer([]);
    using alice = await testMember(plain.port, "alice");
    await alice.write("in main\n");
    await join(alice, "ops");
    await alice.write("in ops\n/me waves\n");
    await plain.waitOut(/^\[ops\] \*\* alice waves$/m);
    const text = plain.stdout();
    expect(text).toContain("\nalice: in main\n");
    expect(text).toContain("\n* alice left (joined ops)\n");
    expect(text).toContain("\n[ops] * alice joined from ");
    expect(text).toContain("\n[ops] alice: in ops\n");
    // The console moving in has no address to show.
    plain.write("/join ops\n");
    await plain.waitOut(/^\[ops\] \* server joined$/m);

    const log = joinPath(mkdtempSync(joinPath(tmpdir(), "chat-rooms-")), "room.log");
    await using json = await cliServer(["--json", "--log", log]);
    using bob = await testMember(json.port, "bob");
    await bob.write("in main\n");
    await join(bob, "Ops", "Ops");
    await bob.write("in ops\n");
    const said = async (text: string) => JSON.parse((await json.waitOut(new RegExp(`^\\{.*"text":"${text}".*$`, "m")))[0]) as object;
    expect(await said("in ops")).toMatchObject({ type: "message", from: "bob", text: "in ops", room: "Ops" });
    expect(await said("in main")).not.toHaveProperty("room");
    await until(() => readFileSync(log, "utf8").includes(" [Ops] bob: in ops\n") || undefined, "the labelled line in the log");
    expect(readFileSync(log, "utf8")).toMatch(/Z bob: in main\n/);
  });

  test("a newcomer whose first lines are /join and /nick is announced only where it lands, under its name", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "dev");
    using carol = await testClient(s.port);
    await carol.waitLine(/^\* welcome, you are guest-\d+ /);
    await carol.write("/join dev\n/nick carol\n");
    await bob.waitLine("* carol joined");
    await carol.write("hello dev\n");
    await bob.waitLine("carol: hello dev");
    expect(bob.lines.filter((l) => l.startsWith("* guest-"))).toEqual([]);
    expect(alice.lines.filter((l) => l.startsWith("* guest-") || l.includes("carol"))).toEqual([]);
  });

  test("the console starts in main and can /join; its lines go to its room", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "ops");
    s.say("/join ops");
    await alice.waitLine("* server left (joined ops)");
    await bob.waitLine("* server joined");
    s.say("hello ops");
    await bob.waitLine("server: hello ops");
    s.say("/kick alice flooding");
    await alice.waitLine("! you were kicked: flooding");
    await bob.write("/who\n");
    await bob.waitLine("* 2 here: bob, server");
  });

  test("JSON: a move is a notice of kind room, then the new room's ready and replay", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(alice, "ops");
    await alice.write("in ops\n");
    await bob.write("/events json\n");
    await bob.waitLine(/"type":"ready"/);
    await bob.write("/join ops\n");
    await bob.waitLine(/"kind":"room"/);
    await until(() => objects(bob).filter((o) => o.type === "ready").length === 2, "the new room's ready");
    const after = objects(bob).slice(objects(bob).findIndex((o) => o.kind === "room"));
    expect(after[0]).toMatchObject({ type: "notice", kind: "room", room: "ops", text: "you are in room ops now (1 other here)" });
    expect(after[1]).toMatchObject({ type: "ready", name: "bob", members: ["alice", "bob"] });
    expect(after[2]).toMatchObject({ type: "message", from: "alice", text: "in ops", history: true });
    await bob.write("/rooms\n");
    await bob.waitLine(/"kind":"rooms"/);
    expect(objects(bob).find((o) => o.kind === "rooms")).toMatchObject({
      room: "ops",
      rooms: [
        { name: "main", members: 1 },
        { name: "ops", members: 2 },
      ],
    });
    const left = s.events.find((e) => e.type === "leave" && e.name === "bob");
    expect(left).toMatchObject({ reason: "moved", message: "ops" });
  });

  test("a move does not refill the mover's --rate-limit", async () => {
    await using s = await testServer({ rateLimit: { lines: 3, periodMs: 3000 } });
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "ops");
    const sent = Date.now();
    await alice.write("a\nb\n/join ops\nc\nd\n");
    await alice.waitLine(/^\* you are in room ops now/);
    await bob.waitLine("alice: d", 5000);
    // a, b and c spent the burst (two of it before the move); d waits for a token (one a second).
    expect(Date.now() - sent).toBeGreaterThanOrEqual(700);
  });

  test("a newcomer's guest name is not one held in another room", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "guest-2");
    await join(alice, "ops");
    using next = await testClient(s.port);
    await next.waitLine(/^\* welcome, you are guest-3 /);
  });

  test("an /ignore follows a rename made in another room", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await join(bob, "ops");
    await alice.write("/ignore bob\n");
    await alice.waitLine(/^\* you ignore bob: /);
    await bob.write("/nick rob\n");
    await bob.waitLine("* bob is now rob");
    await bob.write("/msg alice hidden\n");
    await bob.waitLine("rob -> alice: hidden");
    s.say("/msg alice after");
    await alice.waitLine("server -> alice: after");
    expect(alice.lines).not.toContain("rob -> alice: hidden");
  });
});
