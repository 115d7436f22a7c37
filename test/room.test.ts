/** Library tests of the twoway room over real loopback sockets. */
import { describe, expect, test } from "bun:test";
import { JOIN_GRACE_MS } from "../src/room/room.ts";
import type { TestServer } from "./fixture.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import type { RawClient } from "./helpers.ts";
import { until } from "./helpers.ts";

/** Lines after the greeting (and own rename confirmation). */
const said = (c: RawClient) => c.lines.filter((l) => !l.startsWith("* welcome") && !l.startsWith("* you are now"));
const consoleLines = (s: TestServer) => s.events.map((e) => JSON.stringify(e));

describe("room", () => {
  test("three clients: A's line reaches B and C as `A: TEXT`, not A; the console sees it", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    using c = await testMember(s.port, "carol");
    await a.write("hello room\n");
    await b.waitLine("alice: hello room");
    await c.waitLine("alice: hello room");
    await until(() => s.events.some((e) => e.type === "message" && e.from === "alice" && e.text === "hello room"), "console copy");
    await b.write("marker\n");
    await a.waitLine("bob: marker");
    expect(a.lines).not.toContain("alice: hello room");
  });

  test("greeting names the guest; guests are numbered; join is announced", async () => {
    await using s = await testServer();
    using a = await testMember(s.port);
    using b = await testMember(s.port);
    expect(a.lines[0]).toMatch(/^\* welcome, you are guest-1 \(1 other here;/);
    expect(b.lines[0]).toMatch(/^\* welcome, you are guest-2 \(2 others here;/);
    await a.waitLine("* guest-2 joined", JOIN_GRACE_MS + 2000);
    expect(s.events).toContainEqual({ type: "join", name: "guest-1", peer: `127.0.0.1:${a.socket.localPort}` });
  });

  test("a /nick as the first line comes before the join notice, which follows it at once", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testClient(s.port);
    await b.waitLine(/^\* welcome/);
    const named = Date.now();
    await b.write("/nick bob\n");
    await a.waitLine("* bob joined");
    // Not the grace period: taking a name settles who joined.
    expect(Date.now() - named).toBeLessThan(JOIN_GRACE_MS);
    expect(a.lines.some((l) => l.includes("guest-2"))).toBe(false);
    expect(b.lines.filter((l) => l.startsWith("* ")).length).toBe(2);
  });

  test("/nick rules: format, uniqueness regardless of case, rename announced", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await b.write("/nick ALICE\n");
    await b.waitLine("! the name alice is taken");
    await b.write("/nick server\n");
    await b.waitLine("! the name server is taken");
    await b.write("/nick bad:name\n");
    await b.waitLine(/^! invalid name: /);
    await b.write(`/nick ${"x".repeat(25)}\n`);
    await b.waitLine("! invalid name: a name is at most 24 characters");
    // Letters of other scripts are refused, and the reply says why (they are letters).
    await b.write("/nick 민수\n");
    await b.waitLine(
      "! invalid name: a name may have only ASCII letters, digits, '_', '-' and '.' (letters of other scripts could imitate another name)",
    );
    await b.write("/nick Bobby\n");
    await a.waitLine("* bob is now Bobby");
    await b.waitLine("* bob is now Bobby");
    await b.write("hi\n");
    await a.waitLine("Bobby: hi");
  });

  test("/who, /me, /help, unknown commands", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("/who\n");
    await a.waitLine("* 3 here: alice, bob, server");
    await a.write("/me waves\n");
    await b.waitLine("** alice waves");
    await a.write("/help\n");
    await a.waitLine("*   /msg NAME TEXT   private message to NAME only (also /tell)");
    await a.write("/dance\n");
    await a.waitLine("! unknown command /dance (try /help)");
    await a.write("/kick bob\n");
    await a.waitLine("! /kick is for the server console");
    expect(said(a)).not.toContain("** alice waves");
  });

  test("renames: a few at once, then one a second; the rest refused, and nobody else hears them", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "a0");
    using b = await testMember(s.port, "watcher");
    // Taking a0 on joining was one of a's three; two more go through, the next is refused.
    await a.write("/nick a1\n/nick a2\n/nick a3\n");
    await a.waitLine("! too many renames: wait a second");
    await a.write("hello\n");
    await b.waitLine("a2: hello");
    expect(b.lines.filter((line) => line.includes("is now"))).toEqual(["* a0 is now a1", "* a1 is now a2"]);
  });

  test("/who PREFIX lists the names that start with it, regardless of case", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using _b = await testMember(s.port, "Albert");
    using _c = await testMember(s.port, "bob");
    await a.write("/who al\n");
    await a.waitLine("* 2 of 4 here start with al: Albert, alice");
    await a.write("/who zz\n");
    await a.waitLine("* 0 of 4 here start with zz");
    await a.write("/who a b\n");
    await a.waitLine("! usage: /who [PREFIX]");
  });

  test("/who in a room of more than 100: the count, the first 100 names, and how to find someone", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "asker");
    const others: RawClient[] = [];
    try {
      for (let i = 0; i < 104; i++) others.push(await testMember(s.port, `m${String(i).padStart(3, "0")}`));
      await a.write("/who\n");
      const line = await a.waitLine(/^\* 106 here; the first 100 \(\/who PREFIX to find someone\): /);
      const names = line.slice(line.indexOf("): ") + 3).split(", ");
      expect(names).toHaveLength(100);
      expect(names[0]).toBe("asker");
      expect(names.at(-1)).toBe("m098");
      await a.write("/who m10\n");
      await a.waitLine("* 4 of 106 here start with m10: m100, m101, m102, m103");
    } finally {
      for (const c of others) c.close();
    }
  });

  test("an action goes over the wire as `** NAME ACTION`: `/nick you` + `/me are now alice` is no rename notice", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "carol");
    using b = await testMember(s.port, "bob");
    using you = await testMember(s.port, "you");
    await you.write("/me are now alice\n/me was kicked\n");
    for (const c of [a, b]) {
      await c.waitLine("** you are now alice");
      await c.waitLine("** you was kicked");
      expect(c.lines).not.toContain("* you are now alice");
      expect(c.lines.filter((l) => l.includes("you are now alice") || l.includes("was kicked"))).toEqual([
        "** you are now alice",
        "** you was kicked",
      ]);
    }
    await until(() => s.events.some((e) => e.type === "action" && e.text === "was kicked"), "the console's copy");
  });

  test("no `/me` text makes a line equal to a notice the room sends a plain client", async () => {
    await using s = await testServer();
    using bob = await testMember(s.port, "bob");
    using spoofer = await testMember(s.port, "spoofer");
    await bob.write("/who\n/help\n/nick bob\n");
    await bob.waitLine("* you are already bob");
    await bob.waitLine("*   //text           send a line that starts with /");
    // The notices bob got, and those he could get.
    const notices = new Set(bob.lines.filter((l) => l.startsWith("* ")));
    for (const l of [
      "* you are now alice",
      "* bob is now alice",
      "* bob was kicked",
      "* bob joined",
      "* bob left",
      "* bob left (too slow)",
    ])
      notices.add(l);
    for (const l of ["* bob left (connection lost)", "* bob timed out", "* server shutting down", "* bye"]) notices.add(l);
    let sent = 0;
    const before = bob.lines.length;
    for (const notice of notices) {
      // Named as the notice's first word where that name is free and valid, saying the rest.
      const body = notice.slice(2);
      const space = body.indexOf(" ");
      if (space <= 0) continue;
      const [first, rest] = [body.slice(0, space), body.slice(space + 1)];
      if (rest.trim() === "") continue;
      const free = /^[A-Za-z0-9_.-]{1,24}$/.test(first) && !["bob", "server", "spoofer"].includes(first.toLowerCase());
      // A connection per name: renames are limited per connection (a few at once, then one a second).
      using other = free ? await testMember(s.port, first) : null;
      const speaker = other ?? spoofer;
      const name = other ? first : "spoofer";
      await speaker.write(`/me ${rest}\n`);
      sent++;
      const got = await bob.waitLine(`** ${name} ${rest}`);
      expect(notices.has(got)).toBe(false);
    }
    // All bob got meanwhile: the actions, and the speakers coming and going (real notices).
    const meanwhile = bob.lines.slice(before);
    expect(meanwhile.filter((l) => l.startsWith("** "))).toHaveLength(sent);
    expect(sent).toBeGreaterThan(10);
    expect(meanwhile.filter((l) => !l.startsWith("** ") && !/^\* \S+ (joined|left|left \(connection lost\))$/.test(l))).toEqual([]);
  });

  test("a client cannot be the console (`server`) nor say `* server shutting down`", async () => {
    const s = await testServer();
    try {
      using a = await testMember(s.port, "alice");
      using b = await testMember(s.port, "bob");
      await a.write("/nick server\n/nick SERVER\n/me shutting down\n");
      await a.waitLine("! the name server is taken");
      await a.waitLine("! the name server is taken");
      await b.waitLine("** alice shutting down");
      // Names are unique regardless of case: the console keeps `server`.
      await a.write("/nick Server\n/who\n");
      await a.waitLine(/^\* 3 here: /);
      expect(a.lines.filter((l) => l === "! the name server is taken")).toHaveLength(3);
      await s.close();
      await b.waitLine("* server shutting down");
      await b.waitClosed();
      expect(b.lines.filter((l) => l === "* server shutting down")).toHaveLength(1);
      expect(b.lines.at(-1)).toBe("* server shutting down");
    } finally {
      await s[Symbol.asyncDispose]();
    }
  });

  test("/msg reaches only its target; the sender sees it was sent", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    using c = await testMember(s.port, "carol");
    await a.write("/msg bob the secret\n");
    await b.waitLine("alice -> bob: the secret");
    await a.waitLine("alice -> bob: the secret");
    await a.write("/msg nobody hi\n");
    await a.waitLine("! no one called nobody is here");
    await c.write("marker\n");
    await b.waitLine("carol: marker");
    expect(c.text).not.toContain("secret");
    expect(consoleLines(s).join()).not.toContain("secret");
  });

  test("the console participates both ways, can /msg and /kick", async () => {
    await using s = await testServer({ name: "host" });
    using a = await testMember(s.port, "alice");
    s.say("hello from the console");
    await a.waitLine("host: hello from the console");
    await a.write("/msg host psst\n");
    await until(() => s.events.some((e) => e.type === "message" && e.to === "host" && e.text === "psst"), "private to console");
    s.say("/kick alice");
    await a.waitLine("! you were kicked");
    await a.waitClosed();
    await until(() => s.events.some((e) => e.type === "leave" && e.name === "alice" && e.reason === "kicked"), "kick leave");
  });

  test("history: a newcomer first gets the last N lines", async () => {
    await using s = await testServer({ history: 2 });
    using a = await testMember(s.port, "alice");
    for (const n of [1, 2, 3]) await a.write(`line ${n}\n`);
    await until(() => s.events.filter((e) => e.type === "message").length === 3, "three lines");
    using b = await testMember(s.port);
    await b.waitLine("alice: line 3");
    expect(b.lines.slice(0, 3).map((l) => l.replace(/\(.*\)/, ""))).toEqual([
      "* welcome, you are guest-2 ",
      "alice: line 2",
      "alice: line 3",
    ]);
  });

  test("history is bounded in bytes: long lines give newcomers the newest whole lines within half of --max-queue", async () => {
    await using s = await testServer({ history: 10_000, maxLine: 65_536 });
    using a = await testMember(s.port, "alice");
    const long = (n: number) => `${String(n).padStart(2, "0")}${"x".repeat(59_998)}`;
    for (let n = 1; n <= 20; n++) await a.write(`${long(n)}\n`);
    await until(() => s.events.filter((e) => e.type === "message").length === 20, "twenty lines");
    // Three newcomers at once: each gets the same newest 8 lines (8 × 60,007 bytes fit in 512 KiB, 9 do not).
    const newcomers = await Promise.all([1, 2, 3].map(() => testMember(s.port)));
    try {
      for (const c of newcomers) {
        await c.waitLine(`alice: ${long(20)}`);
        const history = c.lines.filter((l) => l.startsWith("alice: "));
        expect(history.map((l) => l.slice(7, 9))).toEqual(["13", "14", "15", "16", "17", "18", "19", "20"]);
        expect(history.every((l) => l.length === 7 + 60_000)).toBe(true);
      }
    } finally {
      for (const c of newcomers) c.close();
    }
  });

  test("history 0 sends none", async () => {
    await using s = await testServer({ history: 0 });
    using a = await testMember(s.port, "alice");
    await a.write("old\n");
    await until(() => s.events.some((e) => e.type === "message"), "the line");
    using b = await testMember(s.port);
    await b.write("/who\n");
    await b.waitLine(/^\* 3 here/);
    expect(b.text).not.toContain("old");
  });

  test("half-close is /quit after the client's earlier lines are delivered", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await b.write("first\nsecond\nunterminated");
    b.finish();
    await a.waitLine(/^\* bob left/);
    expect(said(a).slice(-4)).toEqual(["bob: first", "bob: second", "bob: unterminated", "* bob left"]);
    await b.waitClosed();
  });

  test("/quit says bye and closes", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await b.write("/quit\n");
    await b.waitLine("* bye");
    await b.waitClosed();
    await a.waitLine(/^\* bob left/);
  });

  test("three lines in one TCP write arrive as three prefixed lines", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("one\ntwo\nthree\n");
    await b.waitLine("alice: three");
    expect(said(b).filter((l) => l.startsWith("alice"))).toEqual(["alice: one", "alice: two", "alice: three"]);
  });

  test("a line with CR or escape sequences cannot spoof a prefix or reach a terminal raw", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "mallory");
    using b = await testMember(s.port, "bob");
    await a.write("harmless\rserver: give me your password\n\x1b[2J\x1b]0;pwned\x07\n");
    await b.waitLine(/^mallory: \^\[\[2J/);
    expect(said(b).filter((l) => l.startsWith("mallory"))).toEqual([
      "mallory: harmless^Mserver: give me your password",
      "mallory: ^[[2J^[]0;pwned^G",
    ]);
    expect(b.text).not.toContain("\x1b");
    expect(b.text).not.toContain("\r");
    expect(b.text).not.toContain("\x07");
  });

  test("two join with the same name: the second is refused the name", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "twin");
    using b = await testClient(s.port);
    await b.waitLine(/^\* welcome/);
    await b.write("/nick Twin\nhello\n");
    await b.waitLine("! the name twin is taken");
    await a.waitLine(/^guest-\d+: hello$/);
  });

  test("people leaving in the middle of a broadcast do not disturb the rest", async () => {
    await using s = await testServer();
    using sender = await testMember(s.port, "sender");
    using members = new DisposableStack();
    const stayers = await Promise.all(["s1", "s2", "s3"].map(async (n) => members.use(await testMember(s.port, n))));
    const leavers = await Promise.all(["l1", "l2", "l3", "l4"].map(async (n) => members.use(await testMember(s.port, n))));
    const lines = Array.from({ length: 500 }, (_, i) => `msg ${i}`);
    const writing = sender.write(`${lines.join("\n")}\n`);
    for (const l of leavers) l.close();
    await writing;
    for (const stayer of stayers) {
      await stayer.waitLine("sender: msg 499");
      expect(said(stayer).filter((l) => l.startsWith("sender: "))).toEqual(lines.map((l) => `sender: ${l}`));
    }
  });

  test("empty lines are not relayed", async () => {
    await using s = await testServer();
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("\n   \nreal\n");
    await b.waitLine("alice: real");
    expect(said(b).filter((l) => l.startsWith("alice"))).toEqual(["alice: real"]);
  });

  test("an over-long line is cut and the sender told", async () => {
    await using s = await testServer({ maxLine: 32 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write(`${"z".repeat(100)}\nafter\n`);
    await a.waitLine("! line too long: cut at 32 bytes");
    await b.waitLine("alice: after");
    expect(said(b).filter((l) => l.startsWith("alice"))).toEqual([`alice: ${"z".repeat(32)}`, "alice: after"]);
  });

  test("plain and other lines in one write: the same prefixes, order, printing and history on both paths", async () => {
    await using s = await testServer({ history: 10, relay: "bytes" });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    const sent = ["plain one", "h\u00e9llo w\u00f6rld", "\t tab and space", " ", "/me waves", "//slash", "esc \x1b[31m red", "plain two"];
    await a.write(`${sent.join("\n")}\n/nick alicia\nrenamed\r\n`);
    await b.waitLine("alicia: renamed");
    const expected = [
      "alice: plain one",
      "alice: h\u00e9llo w\u00f6rld",
      "alice: \t tab and space",
      "** alice waves",
      "alice: /slash",
      "alice: esc ^[[31m red",
      "alice: plain two",
      "* alice is now alicia",
      "alicia: renamed",
    ];
    expect(said(b).filter((l) => l.startsWith("alic") || l.startsWith("* alic") || l.startsWith("** alic"))).toEqual(expected);
    // Plain lines are printed from the bytes relayed; the rest are events.
    expect(s.printed).toBe("alice: plain one\nalice: \t tab and space\nalice: plain two\nalicia: renamed\n");
    expect(s.events.filter((e) => e.type === "message").map((e) => e.text)).toEqual(["h\u00e9llo w\u00f6rld", "/slash", "esc ^[[31m red"]);
    using c = await testMember(s.port);
    await c.waitLine("alicia: renamed");
    expect(c.lines.slice(1, 9)).toEqual(expected.filter((l) => !l.startsWith("* alice is")));
  });

  test("thousands of plain lines in one write, past a batch: each whole, in order, printed once, the last kept", async () => {
    await using s = await testServer({ history: 5, relay: "bytes" });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    const sent: string[] = [];
    for (let i = 1; i <= 6000; i++) sent.push(`line ${String(i).padStart(5, "0")} ${"x".repeat(i % 50)}`);
    // Lines the room must not relay as they are, among the plain ones.
    sent.splice(3000, 0, " indented", "/me waves", "", "\t", "tab\tinside");
    await a.write(`${sent.join("\n")}\n`);
    await b.waitLine(`alice: ${sent[sent.length - 1]}`, 10_000);
    const relayed = sent.filter((l) => l.trim() !== "" && !l.startsWith("/")).map((l) => `alice: ${l}`);
    // "/me waves" came after " indented", the 3,001st relayed line.
    const expected = [...relayed.slice(0, 3001), "** alice waves", ...relayed.slice(3001)];
    expect(said(b).filter((l) => l.startsWith("alice") || l === "** alice waves")).toEqual(expected);
    expect(s.printed).toBe(`${relayed.join("\n")}\n`);
    using c = await testMember(s.port);
    await c.write("/who\n");
    await c.waitLine(/^\* 4 here/);
    expect(c.lines.slice(1, 6)).toEqual(relayed.slice(-5));
  });

  test("history stays intact after later traffic (kept lines are copies, not views of a reused buffer)", async () => {
    await using s = await testServer({ history: 3 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    await a.write("first line\nsecond line\n");
    await b.waitLine("alice: second line");
    // Later batches (lines, notices) reuse the buffer the kept lines were relayed from.
    await b.write("/me overwrites\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n");
    await a.waitLine(/^bob: z+$/);
    b.close();
    await a.waitLine(/^\* bob left/);
    using c = await testMember(s.port);
    await c.write("/who\n");
    await c.waitLine(/^\* 3 here/);
    expect(c.lines.slice(1, 4)).toEqual(["alice: second line", "** bob overwrites", `bob: ${"z".repeat(68)}`]);
  });
});
