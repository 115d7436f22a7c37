/**
 * The console's moderation over real loopback sockets: /kick with a reason,
 * /ban by name (and the address it came from) and by CIDR block, with and
 * without a duration, /bans and /unban, /mute and /unmute. Bans are checked
 * with members on 127.0.0.1 and on ::1, on a server listening on both.
 */
import { describe, expect, test } from "bun:test";
import type { ChatEvent } from "../src/events.ts";
import { type TestServer, testClient, testMember, testServer } from "./fixture.ts";
import { RELAY_WAYS } from "./flood.ts";
import { RawClient, until } from "./helpers.ts";

/** A member greeted over `host` and named `name`. */
async function memberFrom(port: number, host: string, name: string): Promise<RawClient> {
  const c = await RawClient.connect(port, host);
  await c.waitLine(/^\* welcome, you are guest-\d+ /);
  await c.write(`/nick ${name}\n`);
  await c.waitLine(`* you are now ${name}`);
  return c;
}

/** What the console was told (notices and errors), as text. */
const told = (s: TestServer) => s.events.flatMap((e) => (e.type === "notice" || e.type === "error" ? [e.text] : []));
const bans = (s: TestServer) => s.events.filter((e): e is Extract<ChatEvent, { type: "ban" }> => e.type === "ban");

describe("/kick NAME [REASON]", () => {
  test("the member is told why and the room sees it; the JSON leave carries it", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write("/events json\n");
    await alice.waitLine(/"type":"ready"/);
    s.say("/kick bob flooding the room");
    await bob.waitLine("! you were kicked: flooding the room");
    await bob.waitClosed();
    const leave = JSON.parse(await alice.waitLine(/"type":"leave"/)) as Record<string, unknown>;
    expect(leave).toMatchObject({
      name: "bob",
      reason: "kicked",
      message: "flooding the room",
      text: "bob was kicked (flooding the room)",
    });
    await until(
      () => s.events.some((e) => e.type === "leave" && e.reason === "kicked" && e.message === "flooding the room"),
      "the console's copy",
    );
    s.say("/kick nobody");
    await until(() => told(s).includes("no one called nobody is here"), "the console told");
    await alice.write("/kick server\n");
    await alice.waitLine(/"text":"\/kick is for the server console"/);
  });
});

describe("/ban", () => {
  test("by name: the member leaves, told why; its name and its address are refused until the ban is lifted; others on other addresses stay", async () => {
    await using s = await testServer({ host: "::" });
    using alice = await memberFrom(s.port, "127.0.0.1", "alice");
    using bob = await memberFrom(s.port, "::1", "bob");
    s.say("/ban bob 1h spam links");
    await bob.waitLine(/^! you are banned until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: spam links$/);
    await bob.waitClosed();
    await alice.waitLine("* bob was banned (spam links)");
    await until(() => bans(s).length === 2, "two ban events");
    expect(bans(s).map((b) => [b.target, b.reason, b.by])).toEqual([
      ["::1", "spam links", "server"],
      ["bob", "spam links", "server"],
    ]);
    // A newcomer from bob's address is refused, told why, and never joins.
    using again = await RawClient.connect(s.port, "::1");
    await again.waitLine(/^! you are banned until .* UTC: spam links$/);
    await again.waitClosed();
    expect(again.lines).toHaveLength(1);
    await until(() => s.statuses.some((l) => /^refused \[::1\]:\d+: you are banned/.test(l)), "the refusal logged");
    // The name is refused from any address.
    using other = await memberFrom(s.port, "127.0.0.1", "carol");
    await other.write("/nick BOB\n");
    await other.waitLine(/^! the name BOB is banned until .* UTC: spam links$/);
    s.say("/bans");
    await until(() => told(s).includes("2 bans:"), "the list");
    expect(told(s).filter((l) => l.startsWith("  "))).toEqual([
      expect.stringMatching(/^ {2}::1 \(address of bob\) until .* UTC \(59m \d+s left\): spam links$/),
      expect.stringMatching(/^ {2}bob \(name\) until .* UTC \(59m \d+s left\): spam links$/),
    ]);
    // Lifting the name lifts the address banned with it.
    s.say("/unban bob");
    await until(() => bans(s).filter((b) => b.lifted).length === 2, "both lifted");
    using _back = await memberFrom(s.port, "::1", "bob");
    await alice.waitLine("* bob joined");
    s.say("/unban bob");
    await until(() => told(s).includes("bob is not banned"), "nothing left to lift");
  });

  test("by CIDR block: members connected from it leave, newcomers from it are refused; other addresses are not", async () => {
    await using s = await testServer({ host: "::" });
    using v4 = await memberFrom(s.port, "127.0.0.1", "alice");
    using v6 = await memberFrom(s.port, "::1", "bob");
    s.say("/ban 127.0.0.0/8");
    await v4.waitLine("! you are banned");
    await v4.waitClosed();
    await v6.waitLine("* alice was banned");
    using refused = await testClient(s.port);
    await refused.waitLine("! you are banned");
    await refused.waitClosed();
    using _fine = await memberFrom(s.port, "::1", "carol");
    s.say("/unban 127.0.0.0/8");
    await until(() => bans(s).some((b) => b.lifted && b.target === "127.0.0.0/8"), "lifted");
    using _welcome = await memberFrom(s.port, "127.0.0.1", "dave");
    await v6.waitLine("* dave joined");
  });

  test("a ban runs out by itself: refused before, admitted after; /bans no longer lists it", async () => {
    await using s = await testServer();
    using watcher = await testMember(s.port, "watcher");
    s.say("/ban 127.0.0.1 700ms");
    await watcher.waitClosed();
    using refused = await testClient(s.port);
    await refused.waitLine(/^! you are banned until .* UTC$/);
    await Bun.sleep(800);
    using admitted = await testMember(s.port, "after");
    s.say("/bans");
    await until(() => told(s).includes("no bans"), "no bans left");
    // A name ban runs out too.
    s.say("/ban mallory 300ms");
    await until(() => bans(s).some((b) => b.target === "mallory"), "the ban");
    await admitted.write("/nick mallory\n");
    await admitted.waitLine(/^! the name mallory is banned until /);
    await Bun.sleep(400);
    await admitted.write("/nick mallory\n");
    await admitted.waitLine("* after is now mallory");
  });

  test("usage: what is neither a name nor an address; a zero duration; members may not ban", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    s.say("/ban");
    s.say("/ban bad:name");
    s.say("/ban bob 0s");
    s.say("/unban nobody");
    await until(() => told(s).includes("nobody is not banned"), "the answers");
    expect(told(s)).toEqual([
      "usage: /ban NAME|CIDR [DURATION] [REASON]",
      "usage: /ban NAME|CIDR [DURATION] [REASON] (bad:name is neither a name nor an address)",
      "usage: /ban NAME|CIDR [DURATION] [REASON]",
      "nobody is not banned",
    ]);
    await alice.write("/ban server\n/bans\n/unban x\n/mute server\n");
    for (const c of ["/ban", "/bans", "/unban", "/mute"]) await alice.waitLine(`! ${c} is for the server console`);
  });
});

describe("/mute", () => {
  test.each(RELAY_WAYS)(
    "(%s) a muted member's lines and actions are refused, told `! you are muted`; /unmute lets it speak",
    async (_, relay) => {
      await using s = await testServer({ relay });
      using alice = await testMember(s.port, "alice");
      using bob = await testMember(s.port, "bob");
      s.say("/mute bob");
      await bob.waitLine("! you are muted (your lines are not sent to the room)");
      await until(() => told(s).includes("bob is muted"), "the console told");
      const many = Array.from({ length: 50 }, (_, i) => `spam ${i}\n`).join("");
      await bob.write(`${many}/me spams\n/away x\n`);
      await until(() => bob.lines.filter((l) => l === "! you are muted").length === 52, "each refused");
      s.say("/unmute bob");
      await bob.waitLine("* you are no longer muted");
      await bob.write("heard again\n");
      await alice.waitLine("bob: heard again");
      expect(alice.lines.filter((l) => l.includes("spam") || l.includes("away"))).toEqual([]);
    },
  );
});
