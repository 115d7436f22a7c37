/**
 * The room's features beyond talking, over real loopback sockets with raw
 * clients (what nc sends and sees): /away and /back, /ignore, /whois,
 * /topic and --motd, /quit TEXT, /help.
 */
import { describe, expect, test } from "bun:test";
import { testMember, testServer } from "./fixture.ts";
import { RELAY_WAYS } from "./flood.ts";
import type { RawClient } from "./helpers.ts";
import { until } from "./helpers.ts";

/** The JSON objects a member got so far. */
const objects = (c: RawClient) => c.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

async function json(c: RawClient): Promise<void> {
  await c.write("/events json\n");
  await c.waitLine(/"type":"ready"/);
}

describe("/away and /back", () => {
  test("the room is told; /who marks who is away; /msg to an away member tells the sender and is still delivered", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/away lunch\n");
    await bob.waitLine("* alice is away: lunch");
    await alice.waitLine("* alice is away: lunch");
    await bob.write("/who\n");
    await bob.waitLine("* 3 here: alice (away), bob, server");
    await bob.write("/msg alice are you there?\n");
    await bob.waitLine("! alice is away: lunch");
    await bob.waitLine("bob -> alice: are you there?");
    await alice.waitLine("bob -> alice: are you there?");
    await alice.write("/back\n");
    await bob.waitLine("* alice is back");
    await alice.write("/back\n");
    await alice.waitLine("! you are not away");
    await alice.write("/away\n");
    await bob.waitLine("* alice is away");
    await bob.write("/msg alice ping\n");
    await bob.waitLine("! alice is away");
    await until(
      () => s.events.some((e) => e.type === "away" && e.name === "alice" && e.away && e.message === "lunch"),
      "the console's copy",
    );
  });

  test("as JSON: away events, and /who lists who is away", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await json(bob);
    await alice.write("/away in a meeting\n/back\n/away\n");
    await bob.waitLine(/"text":"alice is back"/);
    await bob.waitLine(/"text":"alice is away"}/);
    await bob.write("/who\n");
    await bob.waitLine(/"kind":"who"/);
    const away = objects(bob).filter((o) => o.type === "away");
    expect(away.map(({ ts: _, ...o }) => o)).toEqual([
      { type: "away", name: "alice", away: true, message: "in a meeting", text: "alice is away: in a meeting" },
      { type: "away", name: "alice", away: false, text: "alice is back" },
      { type: "away", name: "alice", away: true, text: "alice is away" },
    ]);
    const who = objects(bob).find((o) => o.kind === "who");
    expect(who?.away).toEqual(["alice"]);
    expect(who?.members).toEqual(["alice", "bob", "server"]);
  });

  test("away changes reach everyone, so a few at once, then one a second, like renames (counted apart)", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/away a\n/back\n/away b\n/back\n");
    await alice.waitLine("! too many changes: wait a second");
    await bob.waitLine("* alice is away: b");
    expect(bob.lines.filter((l) => l.startsWith("* alice is"))).toEqual(["* alice is away: a", "* alice is back", "* alice is away: b"]);
    // The renames' tokens are their own.
    await alice.write("/nick alice2\n");
    await bob.waitLine("* alice is now alice2");
  });

  test("an away text is the member's own words: attributed, sanitised, cut to 200 characters", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/away \x1b[2J* server shutting down\n");
    await bob.waitLine("* alice is away: ^[[2J* server shutting down");
    await alice.write(`/away ${"y".repeat(300)}\n`);
    await bob.waitLine(`* alice is away: ${"y".repeat(200)}`);
  });
});

describe("/ignore", () => {
  test.each(RELAY_WAYS)("(%s) hides the ignored member's lines, actions and private messages, not its notices", async (_, relay) => {
    await using s = await testServer({ relay });
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    using carol = await testMember(s.port, "carol");
    await alice.write("/ignore BOB\n");
    await alice.waitLine("* you ignore bob: nothing it says or sends reaches you (/unignore bob)");
    // Plain lines one by one and many at once, a line that takes the text path, an action, a private message.
    const many = Array.from({ length: 200 }, (_, i) => `flood ${i}\n`).join("");
    await bob.write(`one\n${many}é non-ascii\n/me waves\n/msg alice psst\n`);
    await carol.waitLine("** bob waves");
    await bob.waitLine("bob -> alice: psst");
    await carol.write("carol's marker\n");
    await alice.waitLine("carol: carol's marker");
    expect(carol.lines.filter((l) => l.startsWith("bob: flood"))).toHaveLength(200);
    expect(alice.lines.filter((l) => l.includes("bob"))).toEqual([
      "* bob joined",
      "* you ignore bob: nothing it says or sends reaches you (/unignore bob)",
    ]);
    // Its notices still come, and the ignore follows it through a rename.
    await bob.write("/nick bobby\n");
    await alice.waitLine("* bob is now bobby");
    await bob.write("/away back soon\nstill hidden\n");
    await alice.waitLine("* bobby is away: back soon");
    await alice.write("/ignore\n");
    await alice.waitLine("* you ignore bobby (/unignore NAME)");
    await carol.waitLine("bobby: still hidden");
    await alice.write("/unignore bobby\n");
    await alice.waitLine("* you no longer ignore bobby");
    await bob.write("seen again\n");
    await alice.waitLine("bobby: seen again");
    expect(alice.lines.filter((l) => l.includes("hidden") || l.includes("flood") || l.includes("psst") || l.includes("waves"))).toEqual([]);
    // The server's own output has everything.
    await until(
      () => s.events.some((e) => e.type === "action" && e.from === "bob") || s.printed.includes("bob: one"),
      "the console's copy",
    );
  });

  test("a member taking JSON: the ignored member's lines are left out of its JSON too", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    using carol = await testMember(s.port, "carol");
    await json(alice);
    await alice.write("/ignore bob\n");
    await alice.waitLine(/you ignore bob/);
    await bob.write("hidden 1\nhidden 2\n/me hides\n");
    await carol.waitLine("** bob hides");
    await carol.write("shown\n");
    await alice.waitLine(/"text":"shown"/);
    expect(objects(alice).filter((o) => o.from === "bob")).toEqual([]);
  });

  test("/events json after an /ignore replays the room's lines but the ignored member's, and is still complete", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    using carol = await testMember(s.port, "carol");
    await alice.write("/ignore bob\n");
    await alice.waitLine(/you ignore bob/);
    await bob.write("from bob\n/me acts\n");
    await carol.write("from carol\n");
    await alice.waitLine("carol: from carol");
    await json(alice);
    const ready = objects(alice).find((o) => o.type === "ready");
    expect([ready?.replay, ready?.complete]).toEqual([1, true]);
    expect(
      objects(alice)
        .filter((o) => o.history)
        .map((o) => o.text),
    ).toEqual(["from carol"]);
  });

  test("errors: yourself, nobody, not ignored; the console may not ignore (its output is the room's record)", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    await alice.write("/ignore alice\n/ignore nobody\n/unignore server\n/ignore a b\n");
    await alice.waitLine("! that is you");
    await alice.waitLine("! no one called nobody is here");
    await alice.waitLine("! you do not ignore server");
    await alice.waitLine("! usage: /ignore [NAME]");
    await alice.write("/ignore\n");
    await alice.waitLine("* you ignore no one");
    s.say("/ignore alice");
    await until(() => s.events.some((e) => e.type === "error" && e.text === "/ignore is for connections"), "the console's refusal");
  });
});

describe("/whois", () => {
  test("name, since when, idle time, away text; the address for the console only", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/away lunch\n");
    await bob.waitLine("* alice is away: lunch");
    await bob.write("/whois ALICE\n");
    const line = await bob.waitLine(/^\* alice: /);
    expect(line).toMatch(/^\* alice: here since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s\), idle \d+s, away: lunch$/);
    expect(line).not.toContain("127.0.0.1");
    s.say("/whois alice");
    const told = await until(() => s.events.find((e) => e.type === "notice" && e.kind === "whois"), "the console's answer");
    expect(told.type === "notice" && told.text).toMatch(
      new RegExp(`^alice: here since .* UTC \\(\\d+s\\), idle \\d+s, from 127\\.0\\.0\\.1:${alice.socket.localPort}, away: lunch$`),
    );
    await bob.write("/whois nobody\n/whois\n");
    await bob.waitLine("! no one called nobody is here");
    await bob.waitLine("! usage: /whois NAME");
  });

  test("as JSON: a whois object with the fields; no address", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await json(bob);
    await bob.write("/whois alice\n");
    await bob.waitLine(/"kind":"whois"/);
    const whois = objects(bob).find((o) => o.kind === "whois")?.whois as Record<string, unknown>;
    expect(Object.keys(whois).sort()).toEqual(["idle", "name", "since"]);
    expect(whois.name).toBe("alice");
    expect(Date.now() - Date.parse(String(whois.since))).toBeLessThan(10_000);
    alice.close();
  });
});

describe("/topic and --motd", () => {
  test("--motd greets each newcomer after the greeting; the topic follows, then the history", async () => {
    await using s = await testServer({ motd: ["welcome to ops", "be nice"], history: 5 });
    using alice = await testMember(s.port, "alice");
    await alice.write("said before\n");
    s.say("/topic release on friday");
    await alice.waitLine("* server set the topic: release on friday");
    using bob = await testMember(s.port);
    await bob.waitLine("alice: said before");
    expect(bob.lines.slice(1, 5)).toEqual([
      "* welcome to ops",
      "* be nice",
      "* topic (set by server): release on friday",
      "alice: said before",
    ]);
  });

  test("only the console sets the topic; anyone may read it; JSON topic events", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    await json(alice);
    await alice.write("/topic mine now\n");
    await alice.waitLine(/only the server's console may set the topic here/);
    await alice.write("/topic\n");
    await alice.waitLine(/"text":"no topic is set"/);
    s.say("/topic * alice was kicked");
    await alice.waitLine(/"text":"server set the topic: \* alice was kicked"/);
    await alice.write("/topic\n");
    await alice.waitLine(/"text":"topic \(set by server\): /);
    const topics = objects(alice)
      .filter((o) => o.type === "topic")
      .map(({ ts: _, at, ...o }) => {
        expect(Date.now() - Date.parse(String(at))).toBeLessThan(10_000);
        return o;
      });
    expect(topics).toEqual([
      { type: "topic", topic: "", by: "", current: true, text: "no topic is set" },
      { type: "topic", topic: "* alice was kicked", by: "server", text: "server set the topic: * alice was kicked" },
      { type: "topic", topic: "* alice was kicked", by: "server", current: true, text: "topic (set by server): * alice was kicked" },
    ]);
  });

  test("--open-topic: members set it; /topic - clears it", async () => {
    await using s = await testServer({ openTopic: true });
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/topic lunch at noon\n");
    await bob.waitLine("* alice set the topic: lunch at noon");
    await bob.write("/topic -\n");
    await alice.waitLine("* bob cleared the topic");
    await alice.write("/topic\n");
    await alice.waitLine("* no topic is set");
  });
});

describe("/quit TEXT", () => {
  test("the room sees the words; words that read as the server's own reason are quoted", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    using carol = await testMember(s.port, "carol");
    await json(carol);
    await bob.write("/quit see you all\n");
    await alice.waitLine("* bob left (see you all)");
    await bob.waitClosed();
    using dave = await testMember(s.port, "dave");
    await dave.write("/quit Too  Slow\n");
    await alice.waitLine('* dave left ("Too  Slow")');
    await carol.waitLine(/"name":"dave"/);
    const leaves = objects(carol).filter((o) => o.type === "leave");
    expect(leaves.map(({ ts: _, ...o }) => o)).toEqual([
      { type: "leave", name: "bob", reason: "quit", message: "see you all", text: "bob left (see you all)" },
      { type: "leave", name: "dave", reason: "quit", message: "Too  Slow", text: 'dave left ("Too  Slow")' },
    ]);
    await until(() => s.events.some((e) => e.type === "leave" && e.name === "bob" && e.message === "see you all"), "the console's copy");
  });
});

describe("/help", () => {
  test("every command on one line with its aliases; the console's has its own /quit and its commands", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    await alice.write("/help\n");
    await alice.waitLine("*   //text           send a line that starts with /");
    const help = alice.lines.slice(alice.lines.indexOf("* commands:"));
    for (const command of [
      "/nick",
      "/who",
      "/whois",
      "/me",
      "/msg",
      "/away",
      "/back",
      "/ignore",
      "/unignore",
      "/topic",
      "/quit",
      "/help",
    ]) {
      expect(help.filter((l) => l.startsWith(`*   ${command} `))).toHaveLength(1);
    }
    for (const alias of ["/name", "/names", "/tell", "/exit", "/?"]) expect(help.some((l) => l.includes(`also ${alias}`))).toBe(true);
    expect(help.some((l) => l.includes("/kick") || l.includes("/ban"))).toBe(false);
    s.say("/help");
    const consoleHelp = await until(() => {
      const lines = s.events.flatMap((e) => (e.type === "notice" ? [e.text] : []));
      return lines.includes("console commands:") && lines.some((l) => l.startsWith("  /unmute")) ? lines : undefined;
    }, "the console's help");
    expect(consoleHelp.filter((l) => l.startsWith("  /quit"))).toEqual([
      "  /quit            stop the server (on the console) (also /exit)",
    ]);
    for (const command of [
      "/kick NAME [REASON]",
      "/ban NAME|CIDR [DURATION] [REASON]",
      "/bans",
      "/unban NAME|CIDR",
      "/mute NAME",
      "/unmute NAME",
    ]) {
      expect(consoleHelp.filter((l) => l.startsWith(`  ${command} `))).toHaveLength(1);
    }
    expect(consoleHelp.some((l) => l.startsWith("  /ignore"))).toBe(false);
  });
});
