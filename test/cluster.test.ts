/**
 * Cluster mode: one room over several `chat serve` processes sharing a real
 * redis-server (started for this file on a free loopback port). Each server
 * is a process, so that it can be killed, stopped and restarted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pubKey, roomKeys } from "../src/cluster/keys.ts";
import { RedisLink } from "../src/cluster/link.ts";
import { register } from "../src/cluster/node.ts";
import { type Op, wireGroups } from "../src/cluster/publisher.ts";
import { scripts } from "../src/cluster/scripts.ts";
import { parseRedisUrl } from "../src/cluster/url.ts";
import { testClient, testMember } from "./fixture.ts";
import { type Cli, cliServer, type RawClient, runToEnd, until } from "./helpers.ts";
import { freePort, TestRedis } from "./redis.ts";

let redis: TestRedis;
let rooms = 0;

beforeAll(async () => {
  redis = await TestRedis.start();
});

afterAll(async () => {
  await redis.kill();
});

type Node = Cli & { port: number };

/** A server of `room` (each test gets a room of its own on the shared Redis). */
function node(room: string, name: string, extra: string[] = []): Promise<Node> {
  return cliServer(["--redis", redis.url, "--room", room, "--node", name, ...extra]);
}

const newRoom = () => `r${++rooms}-${process.pid}`;
const said = (c: RawClient, marker: string) => c.lines.filter((l) => l.includes(marker));

describe("a batch on the wire", () => {
  const op = (kind: Op["op"], a: string, s: number, x = ""): Op => ({ op: kind, a, b: "", s, x });
  test("a member's messages in a row share an entry; anything else stands alone", () => {
    const ops = [
      op("message", "alice", 1, "one"),
      op("message", "alice", 1, "two"),
      op("action", "alice", 1, "waves"),
      op("message", "alice", 1, "three"),
      op("message", "bob", 2, "hi"),
      op("message", "bob", 2, "there"),
      op("join", "carol", 3),
      op("message", "bob", 2, "again"),
    ];
    expect(wireGroups(ops).map((g) => g.map((o) => o.x || o.op))).toEqual([
      ["one", "two"],
      ["waves"],
      ["three"],
      ["hi", "there"],
      ["join"],
      ["again"],
    ]);
  });

  test("at most 64 lines an entry", () => {
    const ops = Array.from({ length: 150 }, (_, i) => op("message", "alice", 1, `l${i}`));
    expect(wireGroups(ops).map((g) => g.length)).toEqual([64, 64, 22]);
  });
});

describe("the room's write script", () => {
  test("a claim sent again by its holder (after a lost link) is still its own; another member's claim of it is refused", async () => {
    const keys = roomKeys(newRoom());
    const link = await RedisLink.open(parseRedisUrl(redis.url), 5000);
    try {
      const reg = await register(link, keys, "n1", "boot1", true, 0, "1000");
      expect(reg.node).toBe("n1");
      const batch = (seq: number, ...ops: string[][]) =>
        scripts.ops.run(
          link,
          [keys.log, keys.meta, keys.names, keys.boots, pubKey(keys, "boot1"), keys.info, keys.bans],
          ["n1", "boot1", String(seq), "1000", keys.prefix, ...ops.flat()],
        );
      const claim = (serial: number, name: string) => ["claim", name, "", String(serial), "", ""];
      const join = (serial: number, name: string) => ["join", name, "0", String(serial), "peer", ""];
      expect(await batch(1, claim(7, "bob"))).toEqual([1]);
      // Announced meanwhile, then its claim comes again (a batch sent again after a lost link): it stays announced.
      expect(await batch(2, join(7, "bob"), claim(7, "bob"))).toEqual([1, 1]);
      expect(redis.cli("HGET", keys.names, "bob").trim()).toBe("n1\t7\t1\tbob");
      expect(await batch(3, claim(8, "bob"), claim(8, "carol"))).toEqual([0, 1]);
    } finally {
      link.close();
    }
  });
});

describe("one room over several servers", () => {
  test("a line said on one server reaches the members on the others, both ways, once", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1", ["--json"]);
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    await alice.write("hello from n1\n");
    await bob.waitLine("alice: hello from n1");
    await bob.write("hello from n2\n");
    await alice.waitLine("bob: hello from n2");
    await bob.write("/who\n");
    await bob.waitLine("* 4 here: alice (n1), bob (n2), n1 (n1), n2 (n2)");
    // Each line once, and never back to its sender.
    expect(said(bob, "hello from n1")).toEqual(["alice: hello from n1"]);
    expect(said(alice, "hello from n2")).toEqual(["bob: hello from n2"]);
    expect(said(alice, "hello from n1")).toEqual([]);
    // --json joins name the server the member is on.
    const joins = n1
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"type":"join"'))
      .map((l) => JSON.parse(l) as { name: string; node?: string });
    expect(joins.find((j) => j.name === "bob")?.node).toBe("n2");
    expect(joins.find((j) => j.name === "alice")?.node).toBe("n1");
    expect(n1.stderr()).toMatch(/listening on \S+ \(mode twoway, room r\S+ via redis 127\.0\.0\.1:\d+, node n1\)/);
    expect(n1.stderr()).toContain("redis connected");
  });

  test("three senders on three servers at once: every member on every server sees one identical order", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    await using n3 = await node(room, "n3");
    const ports = [n1.port, n2.port, n3.port];
    const senders = await Promise.all(ports.map((port, i) => testMember(port, `s${i}`)));
    const listeners = await Promise.all(ports.map((port, i) => testMember(port, `l${i}`)));
    const PER = 300;
    await Promise.all(senders.map((s, i) => s.write(Array.from({ length: PER }, (_, k) => `s${i} line ${k}\n`).join(""))));
    const lines = (c: RawClient) => c.lines.filter((l) => / line \d+$/.test(l));
    for (const l of listeners) await until(() => lines(l).length >= 3 * PER, "every line", 30_000);
    const orders = listeners.map(lines);
    expect(orders[0]).toHaveLength(3 * PER);
    expect(orders[1]).toEqual(orders[0] ?? []);
    expect(orders[2]).toEqual(orders[0] ?? []);
    // Each sender's lines in the order sent.
    for (let i = 0; i < 3; i++) {
      const mine = (orders[0] ?? []).filter((l) => l.startsWith(`s${i}: `));
      expect(mine).toEqual(Array.from({ length: PER }, (_, k) => `s${i}: s${i} line ${k}`));
    }
    for (const c of [...senders, ...listeners]) c.close();
  }, 60_000);

  test("a 20,000-line flood across servers: nothing lost, duplicated or reordered", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    await using n3 = await node(room, "n3");
    using sender = await testMember(n1.port, "flood");
    const receivers = await Promise.all([n1.port, n2.port, n3.port].map((port, i) => testMember(port, `r${i}`)));
    // Members of their servers once greeted: every line said from now on is theirs.
    const N = 20_000;
    const expected = Array.from({ length: N }, (_, i) => `flood: line ${i} ${"x".repeat(i % 50)}`);
    await sender.write(Array.from({ length: N }, (_, i) => `line ${i} ${"x".repeat(i % 50)}\n`).join(""), 60_000);
    for (const r of receivers) {
      await until(() => r.lines.filter((l) => l.startsWith("flood: ")).length >= N, "the whole flood", 60_000);
      expect(r.lines.filter((l) => l.startsWith("flood: "))).toEqual(expected);
      r.close();
    }
  }, 120_000);
});

describe("names, private messages and kicks across servers", () => {
  test("names are unique across servers; /msg reaches only its target; the console's /kick reaches another server", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    using carol = await testMember(n2.port, "carol");
    await alice.waitLine("* carol joined");
    await carol.write("/nick ALICE\n");
    await carol.waitLine("! the name alice is taken");
    await bob.write("/msg alice psst\n");
    await alice.waitLine("bob -> alice: psst");
    await bob.waitLine("bob -> alice: psst");
    await bob.write("/msg nobody hi\n");
    await bob.waitLine("! no one called nobody is here");
    n1.write("/kick bob\n");
    await bob.waitLine("! you were kicked");
    await bob.waitClosed();
    await alice.waitLine("* bob was kicked");
    await carol.waitLine("* bob was kicked");
    // The name is free again, on any server.
    await alice.write("/nick bob\n");
    await alice.waitLine("* alice is now bob");
    expect(said(carol, "psst")).toEqual([]);
  }, 30_000);

  test("history comes from Redis and survives a restart of every server; a server's output and --log get no line twice", async () => {
    const room = newRoom();
    const log = join(mkdtempSync(join(tmpdir(), "chat-cluster-")), "room.log");
    const n1 = await node(room, "n1", ["--log", log]);
    const n2 = await node(room, "n2");
    {
      using alice = await testMember(n1.port, "alice");
      using bob = await testMember(n2.port, "bob");
      for (let i = 0; i < 5; i++) await alice.write(`kept ${i}\n`);
      await bob.waitLine("alice: kept 4");
    }
    for (const n of [n1, n2]) {
      n.kill("SIGTERM");
      expect(await n.exited).toBe(0);
    }
    await using n3 = await node(room, "n3", ["--history", "3", "--log", log]);
    using newcomer = await testMember(n3.port);
    await newcomer.waitLine("alice: kept 4");
    expect(newcomer.lines.filter((l) => l.startsWith("alice: "))).toEqual(["alice: kept 2", "alice: kept 3", "alice: kept 4"]);
    // The room's past is the newcomers', not news for the server that came in: not printed or logged again.
    await newcomer.write("after the restart\n");
    await n3.waitOut(/after the restart/);
    await until(() => readFileSync(log, "utf8").includes("after the restart") || undefined, "the line in the log");
    expect(n3.stdout()).not.toContain("kept");
    expect(readFileSync(log, "utf8").match(/alice: kept 4/g)).toHaveLength(1);
  }, 30_000);

  test("two rooms on one Redis stay apart", async () => {
    const a = newRoom();
    const b = newRoom();
    await using n1 = await node(a, "n1");
    await using n2 = await node(b, "n2");
    await using n3 = await node(a, "n3");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "alice");
    using carol = await testMember(n3.port, "carol");
    await alice.waitLine("* carol joined");
    await alice.write("for room a only\n");
    await carol.waitLine("alice: for room a only");
    await bob.write("/who\n");
    await bob.waitLine(/^\* 2 here: /);
    expect(said(bob, "room a")).toEqual([]);
    expect(bob.lines).toContain("* 2 here: alice (n2), n2 (n2)");
  }, 30_000);
});

describe("rooms on the servers of a cluster", () => {
  test("/join opens a cluster room: lines and history stay in their room across servers; /rooms counts the cluster; /msg reaches it", async () => {
    const room = newRoom();
    const ops = `${room}-ops`;
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2", ["--json"]);
    using alice = await testMember(n1.port, "alice");
    using carol = await testMember(n1.port, "carol");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    await alice.write(`/join ${ops}\n`);
    await alice.waitLine(`* you are in room ${ops} now (0 others here)`);
    await carol.waitLine(`* alice left (joined ${ops})`);
    await bob.waitLine(`* alice left (joined ${ops})`);
    await bob.write(`/join ${ops.toUpperCase()}\n`);
    await bob.waitLine(`* you are in room ${ops} now (1 other here)`);
    await alice.waitLine("* bob joined");
    await alice.write("said in ops\n");
    await bob.waitLine("alice: said in ops");
    await carol.write("said in main\n");
    await bob.write("/who\n");
    await bob.waitLine(`* 2 here: alice (n1), bob (n2)`);
    // Rooms counted across the cluster (the consoles are in the first room).
    await carol.write("/rooms\n");
    // (Rooms of servers killed by earlier tests count until their leases run out.)
    await carol.waitLine(
      new RegExp(`^\\* \\d+ rooms: ${room} \\(3\\), (.+, )?${ops} \\(2\\)(, .+)?; you are in ${room} \\(/join NAME to move\\)$`),
    );
    // A private message from the first room reaches bob in the other, on the other server.
    await carol.write("/msg bob psst\n");
    await bob.waitLine("carol -> bob: psst");
    await carol.waitLine("carol -> bob: psst");
    // A newcomer to the room gets its history only.
    using dave = await testMember(n2.port, "dave");
    await dave.write(`/join ${ops}\n`);
    await dave.waitLine(`* you are in room ${ops} now (2 others here)`);
    await dave.write("/who\n");
    await dave.waitLine(/^\* 3 here: /);
    expect(said(dave, "said in ops")).toEqual(["alice: said in ops"]);
    expect(said(dave, "said in main")).toEqual(["carol: said in main"]);
    expect(said(bob, "said in main")).toEqual([]);
    expect(said(alice, "said in main")).toEqual([]);
    expect(said(carol, "said in ops")).toEqual([]);
    // The servers' output labels what happened in the other room; the first room's is as before.
    await n1.waitOut(new RegExp(`^\\[${ops}\\] alice: said in ops$`, "m"));
    await n1.waitOut(/^carol: said in main$/m);
    await n2.waitOut(new RegExp(`"text":"said in ops".*"room":"${ops}"`));
    // The last of n1's members leaves the room: n1 leaves it too (its name there is freed).
    await alice.write(`/join ${room}\n`);
    await alice.waitLine(`* you are in room ${room} now (3 others here)`);
    await until(() => redis.cli("ZRANGE", `chat:{${ops}}:nodes`, "0", "-1").trim() === "n2", "n1 to leave the room", 5000);
    // …and comes back on the next /join.
    await carol.write(`/join ${ops}\n`);
    await carol.waitLine(`* you are in room ${ops} now (2 others here)`);
    await bob.waitLine("* carol joined");
    n1.kill("SIGTERM");
    await bob.waitLine("* carol left");
    expect(await n1.exited).toBe(0);
  }, 40_000);

  test("a name held in the other room on another server: the move is refused, with why; the console can /join", async () => {
    const room = newRoom();
    const ops = `${room}-ops`;
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using bob = await testMember(n2.port, "bob");
    await bob.write(`/join ${ops}\n`);
    await bob.waitLine(`* you are in room ${ops} now (0 others here)`);
    using other = await testMember(n1.port, "bob");
    await other.write(`/join ${ops}\nstill here\n`);
    await other.waitLine(`! the name bob is taken in ${ops}: /nick another to join it`);
    using carol = await testMember(n1.port, "carol");
    await carol.waitLine("bob: still here");
    expect(said(bob, "still here")).toEqual([]);
    n1.write(`/join ${ops}\n`);
    await bob.waitLine("* n1 joined");
    n1.write("from the console\n");
    await bob.waitLine("n1: from the console");
    expect(said(carol, "from the console")).toEqual([]);
  }, 30_000);

  test("a refused move under --rate-limit: the held lines go out at the rate, and the member is read again after", async () => {
    const room = newRoom();
    const ops = `${room}-ops`;
    await using n1 = await node(room, "n1", ["--rate-limit", "2/1s"]);
    await using n2 = await node(room, "n2");
    using bob = await testMember(n2.port, "bob");
    await bob.write(`/join ${ops}\n`);
    await bob.waitLine(`* you are in room ${ops} now (0 others here)`);
    using carol = await testMember(n1.port, "carol");
    using other = await testMember(n1.port, "bob");
    await other.write(`/join ${ops}\nl1\nl2\nl3\nl4\nl5\n`);
    await other.waitLine(`! the name bob is taken in ${ops}: /nick another to join it`);
    await carol.waitLine("bob: l5", 10_000);
    await other.write("after\n");
    await carol.waitLine("bob: after", 5000);
    expect(carol.lines.filter((l) => /^bob: /.test(l))).toEqual(["bob: l1", "bob: l2", "bob: l3", "bob: l4", "bob: l5", "bob: after"]);
  }, 30_000);

  test("/join while Redis cannot be reached: the member stays, told why, and its lines go on in its room", async () => {
    await using local = await TestRedis.start();
    const room = newRoom();
    await using n1 = await cliServer(["--redis", local.url, "--room", room, "--node", "n1", "--timeout", "1s"]);
    using alice = await testMember(n1.port, "alice");
    using carol = await testMember(n1.port, "carol");
    await local.kill();
    await alice.write(`/join ${room}-ops\nafter the join\n`);
    await alice.waitLine(new RegExp(`^! cannot join ${room}-ops: `), 15_000);
    await n1.waitErr(/redis link lost/);
    expect(alice.lines.filter((l) => l.startsWith("* you are in room"))).toEqual([]);
    await alice.write("/rooms\n");
    await alice.waitLine(/^! cannot list the rooms: /);
    expect(carol.lines).not.toContain(`* alice left (joined ${room}-ops)`);
  }, 30_000);
});

describe("ids and servers' names", () => {
  test("line ids agree on every server: a client may ask another server for what came after one", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await bob.write("/events json\n");
    await bob.waitLine(/"type":"ready"/);
    for (const text of ["one", "two", "three"]) await alice.write(`${text}\n`);
    await bob.waitLine(/"text":"three"/);
    const ids = bob.lines.filter((l) => l.includes('"type":"message"')).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toHaveLength(3);
    using carol = await testMember(n1.port, "carol");
    await carol.write(`/events json after=${ids[0]}\n`);
    const ready = JSON.parse(await carol.waitLine(/"type":"ready"/)) as { replay: number; complete: boolean };
    expect([ready.replay, ready.complete]).toEqual([2, true]);
    await carol.waitLine(/"text":"three"/);
    const replayed = carol.lines.filter((l) => l.includes('"type":"message"')).map((l) => JSON.parse(l) as { id: string; text: string });
    expect(replayed.map((r) => `${r.id} ${r.text}`)).toEqual([`${ids[1]} two`, `${ids[2]} three`]);
  }, 20_000);

  test("servers get distinct names by default; a name asked for that a live server holds is refused; so is a console name taken", async () => {
    const room = newRoom();
    await using n1 = await cliServer(["--redis", redis.url, "--room", room]);
    await using n2 = await cliServer(["--redis", redis.url, "--room", room]);
    const first = /node (\S+)\)/.exec(n1.stderr())?.[1] ?? "";
    expect(first).not.toBe("");
    expect(n2.stderr()).toContain(`node ${first}-2)`);
    using alice = await testMember(n1.port, "alice");
    await alice.write("/who\n");
    await alice.waitLine(new RegExp(`^\\* 3 here: alice \\(${first}\\), ${first} \\(${first}\\), ${first}-2 \\(${first}-2\\)$`));
    const taken = await runToEnd(["serve", "--port", "0", "--redis", redis.url, "--room", room, "--node", "other", "--name", "alice"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("the name alice is taken in this room: choose another --name");
    const busy = await runToEnd(["serve", "--port", "0", "--redis", redis.url, "--room", room, "--node", first]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`another live server in this room is called ${first}: choose another --node`);
    // The console that could not join left nothing behind, and did not say it left.
    await alice.write("/who\n");
    await until(() => alice.lines.filter((l) => l.startsWith("* 3 here: ")).length === 2, "a second /who");
    expect(alice.lines.filter((l) => l.includes(" left"))).toEqual([]);
  }, 30_000);
});

describe("servers that stop or die", () => {
  test("SIGTERM: the others see its members leave at once", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    const n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    const t0 = Date.now();
    n2.kill("SIGTERM");
    await alice.waitLine("* bob left");
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await n2.exited).toBe(0);
    await bob.waitClosed();
    await alice.waitLine("* n2 left");
  }, 20_000);

  test("SIGKILL: its members are shown leaving within 10 s and their names are free", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using _bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    const t0 = Date.now();
    n2.kill("SIGKILL");
    await alice.waitLine("* bob left (server lost)", 10_000);
    const noticed = Date.now() - t0;
    expect(noticed).toBeLessThan(10_000);
    using again = await testMember(n1.port, "bob");
    await again.write("/who\n");
    await again.waitLine(/^\* 3 here: alice \(n1\), bob \(n1\), n1 \(n1\)$/);
  }, 30_000);

  test("SIGSTOP past the lease, then SIGCONT: taken for lost, then back; a name taken meanwhile is renamed and told", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    using dave = await testMember(n2.port, "dave");
    await alice.waitLine("* dave joined");
    n2.kill("SIGSTOP");
    await alice.waitLine("* bob left (server lost)", 10_000);
    await alice.waitLine("* dave left (server lost)", 10_000);
    await alice.write("/nick dave\n");
    await alice.waitLine("* alice is now dave");
    n2.kill("SIGCONT");
    await alice.waitLine("* bob joined", 10_000);
    // dave's name went to another member meanwhile: the one coming back is renamed, and told.
    const renamed = await dave.waitLine(/^! the name dave was taken on another server: you are now guest-\d+$/, 10_000);
    const guest = /guest-\d+/.exec(renamed)?.[0] ?? "";
    await alice.waitLine(`* ${guest} joined`, 10_000);
    await bob.write("back again\n");
    await alice.waitLine("bob: back again");
    // Nobody on the server that came back was told it left.
    expect(said(bob, "left")).toEqual([]);
  }, 40_000);
});

describe("Redis lost and back", () => {
  test("killed and restarted empty under a busy room: servers stay up, members stay and are told, no line disappears silently", async () => {
    await using own = await TestRedis.start();
    const room = newRoom();
    await using n1 = await cliServer(["--redis", own.url, "--room", room, "--node", "n1"]);
    await using n2 = await cliServer(["--redis", own.url, "--room", room, "--node", "n2"]);
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    for (let i = 0; i < 50; i++) await alice.write(`busy ${i}\n`);
    await own.kill();
    await alice.waitLine("* lost the link to the rest of the room; reconnecting", 10_000);
    await bob.waitLine("* lost the link to the rest of the room; reconnecting", 10_000);
    await n1.waitErr(/redis link lost: /);
    await alice.write("said while redis was away\n");
    await own.run();
    await alice.waitLine("* link restored", 15_000);
    await bob.waitLine("* link restored", 15_000);
    await n2.waitErr(/redis link restored/);
    await bob.waitLine("alice: said while redis was away", 10_000);
    await bob.waitLine(/redis lost the room's state/);
    await bob.write("and after\n");
    await alice.waitLine("bob: and after", 10_000);
    // Every line said before the loss arrived once, in order.
    const busy = bob.lines.filter((l) => l.startsWith("alice: busy "));
    expect(busy).toEqual(Array.from({ length: 50 }, (_, i) => `alice: busy ${i}`));
    expect(alice.closedAt).toBeNull();
    expect(bob.closedAt).toBeNull();
    // The room knows both again.
    await alice.write("/who\n");
    await alice.waitLine("* 4 here: alice (n1), bob (n2), n1 (n1), n2 (n2)", 10_000);
  }, 60_000);
});

describe("Redis lost and back, in a room joined by /join", () => {
  test("its members stay and are told, a line said meanwhile arrives after, and the room knows them again", async () => {
    await using own = await TestRedis.start();
    const room = newRoom();
    const ops = `${room}-ops`;
    await using n1 = await cliServer(["--redis", own.url, "--room", room, "--node", "n1"]);
    await using n2 = await cliServer(["--redis", own.url, "--room", room, "--node", "n2"]);
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.write(`/join ${ops}\n`);
    await alice.waitLine(`* you are in room ${ops} now (0 others here)`);
    await bob.write(`/join ${ops}\n`);
    await bob.waitLine(`* you are in room ${ops} now (1 other here)`);
    await own.kill();
    await alice.waitLine("* lost the link to the rest of the room; reconnecting", 10_000);
    await bob.waitLine("* lost the link to the rest of the room; reconnecting", 10_000);
    await n1.waitErr(new RegExp(`room ${ops}: redis link lost: `));
    await alice.write("said in ops while redis was away\n");
    await own.run();
    await bob.waitLine("alice: said in ops while redis was away", 20_000);
    await n2.waitErr(new RegExp(`room ${ops}: redis link restored`));
    await bob.write("/who\n");
    await bob.waitLine("* 2 here: alice (n1), bob (n2)", 10_000);
    expect(alice.closedAt).toBeNull();
    expect(bob.closedAt).toBeNull();
  }, 60_000);
});

describe("starting", () => {
  test("Redis unreachable: one line, exit 1, promptly", async () => {
    const port = freePort();
    const t0 = Date.now();
    const result = await runToEnd(["serve", "--port", "0", "--redis", `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`error: cannot connect to redis at 127.0.0.1:${port}: connection refused`);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("the password is never printed", async () => {
    await using locked = await TestRedis.start(["--requirepass", "s3cret-pw"]);
    await using n1 = await cliServer(["--redis", `redis://:s3cret-pw@127.0.0.1:${locked.port}`, "--node", "n1"]);
    expect(n1.stderr()).toContain(`via redis 127.0.0.1:${locked.port}, node n1)`);
    const wrong = await runToEnd(["serve", "--port", "0", "--redis", `redis://:wrong-pw@127.0.0.1:${locked.port}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`cannot connect to redis at 127.0.0.1:${locked.port}`);
    for (const text of [n1.stderr(), n1.stdout(), wrong.stderr, wrong.stdout]) {
      expect(text).not.toContain("s3cret-pw");
      expect(text).not.toContain("wrong-pw");
    }
  }, 20_000);

  test.each([
    [["--redis", "redis://127.0.0.1:1", "--mode", "echo"], "--redis is for a room (--mode twoway), not --mode echo"],
    [["--redis", "http://127.0.0.1:1"], "invalid --redis: http: is not redis: or rediss:"],
    [["--room", "main"], "--room goes with --redis"],
    [["--redis", "redis://127.0.0.1:1", "--room", "a b"], "invalid --room: a room name is 1–64 letters, digits, '_', '-' and '.'"],
  ])("usage errors exit 2: %p", async (args, message) => {
    const result = await runToEnd(["serve", "--port", "0", ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe("room features across servers", () => {
  test("the topic set on one server's console reaches every server: members, newcomers, a server started later", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    n1.write("/topic release on friday\n");
    await bob.waitLine("* n1 set the topic: release on friday");
    await alice.waitLine("* n1 set the topic: release on friday");
    using carol = await testMember(n2.port);
    await carol.waitLine("* topic (set by n1): release on friday");
    expect(carol.lines[1]).toBe("* topic (set by n1): release on friday");
    await bob.write("/topic mine\n/topic\n");
    await bob.waitLine("! only the server's console may set the topic here");
    await bob.waitLine("* topic (set by n1): release on friday");
    // Kept in Redis: a server that starts later shows it too.
    await using n3 = await node(room, "n3");
    using dave = await testMember(n3.port);
    await dave.waitLine("* topic (set by n1): release on friday");
    n3.write("/topic -\n");
    await bob.waitLine("* n3 cleared the topic");
    using erin = await testMember(n1.port, "erin");
    await erin.write("/topic\n");
    await erin.waitLine("* no topic is set");
  }, 30_000);

  test("away shows in /who and /whois on every server, a server started later included; /msg to an away member elsewhere tells the sender", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    await alice.write("/away lunch\n");
    await bob.waitLine("* alice is away: lunch");
    await alice.waitLine("* alice is away: lunch");
    await bob.write("/who\n");
    await bob.waitLine("* 4 here: alice (n1, away), bob (n2), n1 (n1), n2 (n2)");
    await bob.write("/whois alice\n");
    // Another server's member: since when, where, away; its idle time is its own server's.
    const whois = await bob.waitLine(/^\* alice: /);
    expect(whois).toMatch(/^\* alice: here since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s\), on n1, away: lunch$/);
    await alice.write("/whois bob\n");
    await alice.waitLine(/^\* bob: here since .* UTC \(\d+s\), on n2$/);
    await alice.write("/whois alice\n");
    await alice.waitLine(/^\* alice: here since .* UTC \(\d+s\), idle \d+s, on this server \(n1\), away: lunch$/);
    await bob.write("/msg alice back soon?\n");
    await bob.waitLine("! alice is away: lunch");
    await alice.waitLine("bob -> alice: back soon?");
    // The console elsewhere sees the address.
    n2.write("/whois alice\n");
    await n2.waitOut(new RegExp(`\\* alice: here since .*, on n1, from 127\\.0\\.0\\.1:${alice.socket.localPort}, away: lunch\\n`));
    await using n3 = await node(room, "n3");
    using carol = await testMember(n3.port, "carol");
    await carol.write("/who\n");
    await carol.waitLine("* 6 here: alice (n1, away), bob (n2), carol (n3), n1 (n1), n2 (n2), n3 (n3)");
    await alice.write("/back\n");
    await carol.waitLine("* alice is back");
    await carol.write("/who al\n");
    await carol.waitLine("* 1 of 6 here start with al: alice (n1)");
  }, 30_000);

  test("kick with a reason and mute reach a member on another server; the console is told", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    using carol = await testMember(n2.port, "carol");
    await alice.waitLine("* carol joined");
    n1.write("/kick bob flooding the room\n");
    await bob.waitLine("! you were kicked: flooding the room");
    await bob.waitClosed();
    await alice.waitLine("* bob was kicked (flooding the room)");
    await carol.waitLine("* bob was kicked (flooding the room)");
    n1.write("/mute carol\n");
    await carol.waitLine("! you are muted (your lines are not sent to the room)");
    await n1.waitOut(/\* carol is muted\n/);
    await carol.write("spam\n/me spams\n");
    await until(() => carol.lines.filter((l) => l === "! you are muted").length === 2, "both refused");
    n1.write("/unmute carol\n/mute nobody\n");
    await carol.waitLine("* you are no longer muted");
    await n1.waitOut(/! no one called nobody is here\n/);
    await carol.write("heard again\n");
    await alice.waitLine("carol: heard again");
    expect(said(alice, "spam")).toEqual([]);
  }, 30_000);

  test("bans hold on every server: a name and a block set on one are refused on the others, members it covers leave; /bans and /unban anywhere", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n2.port, "alice");
    n1.write("/ban mallory 1h spam\n");
    await n2.waitOut(/\* mallory is banned until .* UTC: spam\n/);
    await alice.write("/nick mallory\n");
    await alice.waitLine(/^! the name mallory is banned until .* UTC: spam$/);
    n1.write("/ban 127.0.0.0/8 1h scans\n");
    await alice.waitLine(/^! you are banned until .* UTC: scans$/);
    await alice.waitClosed();
    await n1.waitOut(/\* alice was banned \(scans\)\n/);
    using refused = await testClient(n2.port);
    await refused.waitLine(/^! you are banned until .* UTC: scans$/);
    await refused.waitClosed();
    n2.write("/bans\n");
    await n2.waitOut(/\* 2 bans:\n\* {3}127\.0\.0\.0\/8 \(address\) until .*: scans\n\* {3}mallory \(name\) until .*: spam\n/);
    n2.write("/unban 127.0.0.0/8\n");
    await n1.waitOut(/\* 127\.0\.0\.0\/8 is no longer banned\n/);
    using back = await testMember(n1.port, "back");
    await back.write("/nick mallory\n");
    await back.waitLine(/^! the name mallory is banned/);
    // A server started later knows the bans (kept in Redis).
    await using n3 = await node(room, "n3");
    n3.write("/bans\n");
    await n3.waitOut(/\* 1 ban:\n\* {3}mallory \(name\) until .*: spam\n/);
  }, 30_000);

  test("/ban NAME of a member on another server: it leaves, and its name and address are refused everywhere; /unban NAME lifts both", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    n1.write("/ban bob 10m\n");
    await bob.waitLine(/^! you are banned until .* UTC$/);
    await bob.waitClosed();
    await alice.waitLine("* bob was banned");
    await n2.waitOut(/\* 127\.0\.0\.1 is banned until .* UTC\n\* bob is banned until .* UTC\n/);
    // Others from the same address stay; newcomers from it are refused on every server.
    using refused = await testClient(n1.port);
    await refused.waitLine(/^! you are banned until /);
    expect(alice.closedAt).toBeNull();
    n2.write("/unban bob\n");
    await n1.waitOut(/\* bob is no longer banned\n\* 127\.0\.0\.1 is no longer banned\n/);
    using _again = await testMember(n1.port, "bob");
    await alice.waitLine("* bob joined");
  }, 30_000);

  test("/ignore hides a member of another server: its lines, actions and private messages", async () => {
    const room = newRoom();
    await using n1 = await node(room, "n1");
    await using n2 = await node(room, "n2");
    using alice = await testMember(n1.port, "alice");
    using carol = await testMember(n1.port, "carol");
    using bob = await testMember(n2.port, "bob");
    await alice.waitLine("* bob joined");
    await alice.write("/ignore bob\n");
    await alice.waitLine("* you ignore bob: nothing it says or sends reaches you (/unignore bob)");
    await bob.write("hidden\n/me hides\n/msg alice psst\n");
    await carol.waitLine("** bob hides");
    await bob.waitLine("bob -> alice: psst");
    await carol.write("marker\n");
    await alice.waitLine("carol: marker");
    expect(alice.lines.filter((l) => l.includes("hid") || l.includes("psst"))).toEqual([]);
  }, 30_000);
});
