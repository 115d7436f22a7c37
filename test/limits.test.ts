/**
 * Limits (issue 4): --max-line, --max-clients, --idle-timeout, --allow and
 * --deny, over real loopback sockets; a CLI process where the server's
 * memory is what is checked.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { parseCidr } from "../src/net/cidr.ts";
import { KEEPALIVE_MS } from "../src/server/connections.ts";
import { TICK_MS } from "../src/server.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import { MiB, memory } from "./flood.ts";
import { cliServer, until } from "./helpers.ts";

describe("--max-line", () => {
  const long = "x".repeat(10_000);

  test("twoway: a long line is cut at the limit, the sender is told, the rest is discarded", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write(`${long}\nafter\n`);
    await bob.waitLine("alice: after");
    expect(bob.lines.filter((l) => l.startsWith("alice: "))).toEqual([`alice: ${"x".repeat(4096)}`, "alice: after"]);
    await alice.waitLine("! line too long: cut at 4096 bytes");
  });

  test("oneway and echo: the printed line is cut, the next line is intact; echo stays byte-exact", async () => {
    await using s = await testServer({ mode: "oneway", maxLine: 100 });
    using c = await testClient(s.port);
    await c.write(`${long}\nnext\n`);
    await until(() => s.messages().length === 2, "two printed lines");
    expect(s.messages().map((e) => e.text)).toEqual(["x".repeat(100), "next"]);

    await using e = await testServer({ mode: "echo", maxLine: 100 });
    using d = await testClient(e.port);
    await d.write(`${long}\n`);
    await d.waitLine(long);
    await until(() => e.messages().length > 0, "the printed line");
    expect(e.messages().map((ev) => ev.text)).toEqual(["x".repeat(100)]);
  });

  for (const mode of ["oneway", "twoway"]) {
    test(`${mode}: server memory stays flat under a 64 MiB line with no newline`, async () => {
      await using s = await cliServer(["--mode", mode, "--host", "127.0.0.1"]);
      using watcher = mode === "twoway" ? await testMember(s.port, "watcher") : null;
      const before = memory(s.proc.pid);
      using sender = await testClient(s.port);
      const chunk = new TextEncoder().encode("y".repeat(MiB));
      for (let i = 0; i < 64; i++) await sender.write(chunk);
      await sender.write("\nafter\n");
      if (watcher) {
        await watcher.waitLine(/: after$/, 20_000);
        expect(watcher.lines).toContain(`guest-2: ${"y".repeat(4096)}`);
        await sender.waitLine("! line too long: cut at 4096 bytes");
      } else {
        await s.waitOut(/: after\n/, 20_000);
        expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: y{4096}$/m);
      }
      const grown = memory(s.proc.pid).hwm - before.hwm;
      expect(grown).toBeLessThan(32 * MiB);
    });
  }
});

describe("--max-clients", () => {
  test("twoway: one too many is told `! server full` and closed; the server logs it and goes on", async () => {
    await using s = await testServer({ maxClients: 2 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    using extra = await testClient(s.port);
    await extra.waitClosed();
    expect(extra.text).toBe("! server full\n");
    expect(s.statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: server full$/));
    await a.write("still here\n");
    await b.waitLine("alice: still here");
    b.finish();
    await a.waitLine("* bob left");
    using next = await testClient(s.port);
    await next.waitLine(/^\* welcome, you are guest-\d+ /);
  });

  for (const mode of ["echo", "oneway"] as const) {
    test(`${mode}: one too many is closed without a byte; the others are served`, async () => {
      await using s = await testServer({ mode, maxClients: 1 });
      using first = await testClient(s.port);
      using extra = await testClient(s.port);
      await extra.waitClosed();
      expect(extra.bytes.length).toBe(0);
      expect(s.statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: server full$/));
      await first.write("served\n");
      if (mode === "echo") await first.waitLine("served");
      else await until(() => s.messages().some((e) => e.text === "served"), "the printed line");
      expect(first.closedAt).toBeNull();
    });
  }
});

describe("--max-per-address", () => {
  test("twoway: one more from the same address is told why and closed, logged; other addresses and later ones are served", async () => {
    await using s = await testServer({ host: "::", maxPerAddress: 2 });
    using a = await testMember(s.port, "alice");
    using b = await testMember(s.port, "bob");
    using extra = await testClient(s.port);
    await extra.waitClosed();
    expect(extra.text).toBe("! too many connections from your address\n");
    expect(s.statuses).toEqual([expect.stringMatching(/^refused 127\.0\.0\.1:\d+: too many connections from your address$/)]);
    // Another address is not counted with 127.0.0.1.
    using v6 = await testClient(s.port, "::1");
    await v6.waitLine(/^\* welcome, you are guest-\d+ /);
    await a.write("still here\n");
    await b.waitLine("alice: still here");
    await v6.waitLine("alice: still here");
    // One leaves: its address may connect once more.
    b.finish();
    await a.waitLine("* bob left");
    using next = await testClient(s.port);
    await next.waitLine(/^\* welcome, you are guest-\d+ /);
    expect(s.statuses).toHaveLength(1);
  });

  for (const mode of ["echo", "oneway"] as const) {
    test(`${mode}: one more from the same address is closed without a byte; the first is served`, async () => {
      await using s = await testServer({ mode, maxPerAddress: 1 });
      using first = await testClient(s.port);
      using extra = await testClient(s.port);
      await extra.waitClosed();
      expect(extra.bytes.length).toBe(0);
      expect(s.statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: too many connections from your address$/));
      await first.write("served\n");
      if (mode === "echo") await first.waitLine("served");
      else await until(() => s.messages().some((e) => e.text === "served"), "the printed line");
      expect(first.closedAt).toBeNull();
    });
  }

  test("off by default: many connections from one address are all served", async () => {
    await using s = await testServer({ mode: "echo" });
    const clients = await Promise.all(Array.from({ length: 20 }, () => testClient(s.port)));
    try {
      await until(() => s.clients === 20, "20 clients");
      expect(s.statuses).toEqual([]);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe("TCP keepalive", () => {
  test("accepted sockets have keepalive on, first probe after KEEPALIVE_MS", async () => {
    await using s = await testServer({ mode: "echo" });
    using c = await testClient(s.port);
    await c.write("hi\n");
    await c.waitLine("hi");
    // The server's end of the connection, as the kernel sees it.
    const ss = spawnSync(["ss", "-tnoH", "state", "established", `( sport = :${s.port} )`]);
    const line = ss.stdout.toString().trim();
    expect(line).toMatch(/timer:\(keepalive,/);
    // `timer:(keepalive,59sec,0)` or `timer:(keepalive,1min,0)`: the time to the first probe.
    const [, min = "0", sec = "0"] = /keepalive,(?:(\d+)min)?(?:(\d+)(?:\.\d+)?sec)?/.exec(line) ?? [];
    const left = Number(min) * 60 + Number(sec);
    expect(left).toBeGreaterThan(KEEPALIVE_MS / 1000 - 10);
    expect(left).toBeLessThanOrEqual(KEEPALIVE_MS / 1000);
  });
});

describe("--idle-timeout", () => {
  test("twoway: a silent client is disconnected and the room told; an active one stays", async () => {
    await using s = await testServer({ idleTimeoutMs: 600 });
    using quiet = await testMember(s.port, "quiet");
    const quietPeer = `127.0.0.1:${quiet.socket.localPort}`;
    using busy = await testMember(s.port, "busy");
    await quiet.waitLine("* busy joined");
    let talking = true;
    const talk = (async () => {
      for (let i = 0; talking; i++) {
        await busy.write(`ping ${i}\n`);
        // A line every 100 ms, well within the 600 ms time-out.
        await Bun.sleep(100);
      }
    })();
    await quiet.waitLine("! no input for 600ms, disconnecting", 3000);
    await quiet.waitClosed();
    await busy.waitLine("* quiet timed out");
    // busy, talking, must still be there past another time-out: an absence, so a time.
    await Bun.sleep(800);
    talking = false;
    await talk;
    expect(busy.closedAt).toBeNull();
    expect(s.statuses).toContain(`${quietPeer} timed out`);
    expect(s.statuses.filter((t) => t.endsWith("timed out"))).toHaveLength(1);
    expect(s.events).toContainEqual(expect.objectContaining({ type: "leave", name: "quiet", reason: "timed out" }));
  });

  test("the time-out counts from a client's last input: never early, at most a couple of ticks late", async () => {
    await using s = await testServer({ idleTimeoutMs: 400 });
    using c = await testMember(s.port, "talker");
    // Input now and then keeps it; each line restarts the count.
    for (let i = 0; i < 4; i++) {
      // 250 ms of silence, less than the 400 ms time-out.
      await Bun.sleep(250);
      await c.write(`still here ${i}\n`);
    }
    const lastInput = Date.now();
    await c.waitLine("! no input for 400ms, disconnecting", 3000);
    const after = Date.now() - lastInput;
    expect(after).toBeGreaterThanOrEqual(400);
    expect(after).toBeLessThan(400 + 2 * TICK_MS + 300);
    expect(c.lines.filter((l) => l.startsWith("! no input"))).toHaveLength(1);
  });

  for (const mode of ["twoway", "echo"] as const) {
    test(`${mode}: it counts from the last complete line: a byte dribbled every 50 ms does not keep a client`, async () => {
      await using s = await testServer({ mode, idleTimeoutMs: 400 });
      using c = mode === "twoway" ? await testMember(s.port, "dribbler") : await testClient(s.port);
      await c.write("a whole line\n");
      const lastLine = Date.now();
      if (mode === "echo") await c.waitLine("a whole line");
      let dribbling = true;
      const dribble = (async () => {
        while (dribbling && c.closedAt === null) {
          // The server may close between the check and the write.
          await c.write("z").catch(() => {});
          await Bun.sleep(50);
        }
      })();
      try {
        await c.waitClosed(3000);
      } finally {
        dribbling = false;
        await dribble;
      }
      const after = (c.closedAt ?? 0) - lastLine;
      expect(after).toBeGreaterThanOrEqual(400);
      expect(after).toBeLessThan(400 + 2 * TICK_MS + 300);
      expect(s.statuses.filter((t) => t.endsWith("timed out"))).toHaveLength(1);
      if (mode === "twoway") expect(c.lines).toContain("! no input for 400ms, disconnecting");
    });
  }

  test("echo: the silent client and one that stopped reading its echo are closed, the active one is not", async () => {
    await using s = await testServer({ mode: "echo", idleTimeoutMs: 400 });
    using quiet = await testClient(s.port);
    using busy = await testClient(s.port);
    // Sends until the server stops reading it (its echo is not read), then can only wait.
    using deaf = await testClient(s.port);
    const deafPeer = `127.0.0.1:${deaf.socket.localPort}`;
    deaf.socket.pause();
    const block = new Uint8Array(1024 * 1024);
    // A turn of the event loop between writes lets the in-process server read and echo; it stops at the first write refused.
    for (let i = 0; i < 64 && deaf.socket.write(block) > 0; i++) await Bun.sleep(1);
    const started = Date.now();
    while (Date.now() - started < 1500) {
      await busy.write("x\n");
      // A line every 100 ms for 1.5 s, well within the 400 ms time-out.
      await Bun.sleep(100);
    }
    await quiet.waitClosed();
    await until(() => s.statuses.filter((t) => t.endsWith("timed out")).length === 2, "two time-outs");
    expect(s.statuses).toContain(`${deafPeer} timed out`);
    expect(busy.closedAt).toBeNull();
  });
});

describe("--allow / --deny", () => {
  const cidrs = (...texts: string[]) => texts.map((t) => parseCidr(t) ?? expect.unreachable(t));

  test("IPv4 denied, IPv6 allowed: `! not allowed`, closed, logged", async () => {
    await using s = await testServer({ host: "::", deny: cidrs("127.0.0.0/8") });
    using v4 = await testClient(s.port, "127.0.0.1");
    await v4.waitClosed();
    expect(v4.text).toBe("! not allowed\n");
    expect(s.statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: not allowed$/));
    using v6 = await testClient(s.port, "::1");
    await v6.waitLine(/^\* welcome, you are guest-\d+ /);
  });

  test("only IPv6 allowed: an IPv4 client is told `! address not allowed`", async () => {
    await using s = await testServer({ host: "::", allow: cidrs("::1/128") });
    using v4 = await testClient(s.port, "127.0.0.1");
    await v4.waitClosed();
    expect(v4.text).toBe("! address not allowed\n");
    using v6 = await testClient(s.port, "::1");
    await v6.waitLine(/^\* welcome, you are guest-\d+ /);
    expect(s.statuses).toEqual([expect.stringMatching(/^refused 127\.0\.0\.1:\d+: address not allowed$/)]);
  });

  test("IPv6 denied by prefix, IPv4 allowed by block; echo refuses without a byte", async () => {
    await using s = await testServer({ host: "::", mode: "echo", allow: cidrs("127.0.0.0/8", "::/0"), deny: cidrs("::1/120") });
    using v6 = await testClient(s.port, "::1");
    await v6.waitClosed();
    expect(v6.bytes.length).toBe(0);
    expect(s.statuses).toContainEqual(expect.stringMatching(/^refused \[::1\]:\d+: not allowed$/));
    using v4 = await testClient(s.port, "127.0.0.1");
    await v4.write("hello\n");
    await v4.waitLine("hello");
  });
});
