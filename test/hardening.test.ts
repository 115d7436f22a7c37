/**
 * Hardening (issue 4): flow control, slow consumers, limits, refusals,
 * shutdown, telnet and abuse, over real loopback sockets. Mostly the library
 * `serve()`; CLI processes where signals, exit codes, memory or file
 * descriptors of the server process are what is checked.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import type { ChatEvent } from "../src/events.ts";
import type { RawWriter } from "../src/modes/mode.ts";
import { parseCidr } from "../src/net/cidr.ts";
import { STALL_MS } from "../src/room/room.ts";
import { type ServeOptions, type ServerHandle, SHUTDOWN_GRACE_MS, serve, TICK_MS } from "../src/server.ts";
import { CLI, type Cli, cliServer, RawClient, runCli, until } from "./helpers.ts";

let servers: ServerHandle[] = [];
const clients: RawClient[] = [];
const sockets: Socket<undefined>[] = [];
const processes: Cli[] = [];
let events: ChatEvent[] = [];
/** When the server emitted each room line (the console's copy): shows when the room stops and goes. */
let relayedAt: number[] = [];
let statuses: string[] = [];

/** `relayed`: the room hands its plain lines over as bytes (see ModeOutput), not as events. */
async function start(options: ServeOptions = {}, relayed?: RawWriter): Promise<ServerHandle> {
  events = [];
  relayedAt = [];
  statuses = [];
  const event = (e: ChatEvent) => {
    events.push(e);
    if (e.type === "message") relayedAt.push(Date.now());
  };
  const server = await serve({
    host: "127.0.0.1",
    port: 0,
    output: { event, relayed },
    onStatus: (text) => statuses.push(text),
    ...options,
  });
  servers.push(server);
  return server;
}

async function client(port: number, host = "127.0.0.1"): Promise<RawClient> {
  const c = await RawClient.connect(port, host);
  clients.push(c);
  return c;
}

/** A room participant with a name, greeted and renamed. */
async function member(port: number, name: string): Promise<RawClient> {
  const c = await client(port);
  await c.waitLine(/^\* welcome, you are /);
  await c.write(`/nick ${name}\n`);
  await c.waitLine(`* you are now ${name}`);
  return c;
}

async function server(args: string[]): Promise<Cli & { port: number }> {
  const s = await cliServer(args);
  processes.push(s);
  return s;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  for (const p of processes.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
});

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

/** `/proc/PID/status` fields, in bytes. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * A room reader that counts numbered flood lines (`FROM: #N ...`) without
 * keeping them, checks they arrive in order, and notes the longest gap.
 */
class FloodReader {
  count = 0;
  inOrder = true;
  maxGapMs = 0;
  notices: string[] = [];
  closed = false;
  private lastAt = 0;
  private rest = "";
  private readonly decoder = new TextDecoder();
  socket!: Socket<undefined>;

  constructor(readonly from: string) {}

  static async join(port: number, name: string, from: string, paused = false): Promise<FloodReader> {
    const reader = new FloodReader(from);
    reader.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => reader.take(chunk),
        close: () => {
          reader.closed = true;
        },
        error() {},
      },
    });
    sockets.push(reader.socket);
    reader.socket.write(`/nick ${name}\n`);
    await until(() => reader.notices.includes(`* you are now ${name}`), `${name}'s rename`);
    if (paused) reader.socket.pause();
    return reader;
  }

  private take(chunk: Uint8Array): void {
    const lines = (this.rest + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.rest = lines.pop() ?? "";
    const prefix = `${this.from}: #`;
    for (const line of lines) {
      if (!line.startsWith(prefix)) {
        this.notices.push(line);
        continue;
      }
      const now = Date.now();
      if (this.count > 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastAt);
      this.lastAt = now;
      if (Number.parseInt(line.slice(prefix.length), 10) !== this.count) this.inOrder = false;
      this.count++;
    }
  }
}

/** The longest time the room relayed nothing, from its first line to its last. */
/**
 * Prints a room's plain lines from the bytes relayed, as the CLI does (many
 * lines a call): each line's time goes to `relayedAt`, like the console's
 * events otherwise.
 */
function timedRelayWriter(bytes: Uint8Array, start: number, end: number): void {
  const now = Date.now();
  for (let i = start; i < end; i++) if (bytes[i] === 10) relayedAt.push(now);
}

/** The room's two ways of handing over what it relays: events per line, or bytes many lines at a time. */
const RELAY_WAYS: [string, RawWriter | undefined][] = [
  ["events", undefined],
  ["printed bytes", timedRelayWriter],
];

function longestRelayPause(): number {
  let longest = 0;
  for (let i = 1; i < relayedAt.length; i++) longest = Math.max(longest, (relayedAt[i] ?? 0) - (relayedAt[i - 1] ?? 0));
  return longest;
}

/** Waits until the room relays nothing for `quietMs` although `total` lines were not all relayed: it stopped reading. */
async function roomHolds(total: number, quietMs = 150): Promise<number> {
  let seen = -1;
  let since = Date.now();
  return until(
    () => {
      const now = Date.now();
      if (relayedAt.length !== seen) {
        seen = relayedAt.length;
        since = now;
      }
      return seen < total && now - since >= quietMs ? seen : undefined;
    },
    "the room to stop reading the sender",
    10_000,
  );
}

/**
 * Enough numbered lines (about `size` bytes each) to overflow the kernel's
 * socket buffers on loopback (several MiB with autotuning), so a reader that
 * does not read makes a queue build up in the server.
 */
const FLOOD_LINES = 100_000;

/** `count` numbered lines of about `size` bytes each. */
function floodText(count: number, size = 100): Uint8Array {
  const pad = "x".repeat(Math.max(0, size - 10));
  let text = "";
  for (let i = 0; i < count; i++) text += `#${i} ${pad}\n`;
  return encoder.encode(text);
}

/** Writes everything through a raw socket, waiting while the kernel takes nothing. */
async function writeAll(socket: Socket<undefined>, bytes: Uint8Array, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let rest = bytes;
  while (rest.length > 0) {
    const n = socket.write(rest);
    if (n < 0) throw new Error("socket closed while writing");
    rest = rest.subarray(n);
    if (rest.length > 0) {
      if (Date.now() > deadline) throw new Error("write stalled");
      await Bun.sleep(n > 0 ? 0 : 2);
    }
  }
}

/** Random bytes repeating with a prime period, so a long echo can be checked without keeping it. */
const PERIOD = 65_521;
const BLOCK = 256 * 1024;
const CYCLE = (() => {
  const period = crypto.getRandomValues(new Uint8Array(PERIOD));
  const cycle = Buffer.alloc(PERIOD + BLOCK);
  for (let at = 0; at < cycle.length; at += PERIOD) cycle.set(period.subarray(0, Math.min(PERIOD, cycle.length - at)), at);
  return cycle;
})();
/** The pattern's bytes from stream offset `from` (at most BLOCK of them). */
function pattern(from: number, length: number): Buffer {
  const at = from % PERIOD;
  return CYCLE.subarray(at, at + Math.min(length, BLOCK));
}

describe("flow control without loss", () => {
  test("echo: a client that does not read is paused, not dropped; it gets every byte back when it reads", async () => {
    const s = await start({ mode: "echo" });
    const total = 48 * MiB;
    let received = 0;
    let mismatch = -1;
    let closed = false;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: s.port,
      socket: {
        data(_s, chunk) {
          for (let at = 0; at < chunk.length && mismatch < 0; at += BLOCK) {
            const part = chunk.subarray(at, at + BLOCK);
            if (!pattern(received + at, part.length).equals(part)) mismatch = received + at;
          }
          received += chunk.length;
        },
        close() {
          closed = true;
        },
        error() {},
      },
    });
    sockets.push(socket);
    socket.pause();
    // Write without reading until the kernel takes nothing for a while: the server stopped reading.
    let sent = 0;
    let idleSince = Date.now();
    while (sent < total && Date.now() - idleSince < 400) {
      const n = socket.write(pattern(sent, total - sent));
      if (n > 0) {
        sent += n;
        idleSince = Date.now();
      } else await Bun.sleep(10);
    }
    const stalledAt = sent;
    expect(stalledAt).toBeLessThan(total / 2);
    expect(received).toBe(0);
    expect(s.clients).toBe(1);

    socket.resume();
    while (sent < total) {
      const n = socket.write(pattern(sent, total - sent));
      if (n < 0) throw new Error("echo connection closed");
      sent += n;
      if (n === 0) await Bun.sleep(1);
    }
    await until(() => received >= total || closed, "the whole echo", 20_000);
    expect({ received, mismatch, closed }).toEqual({ received: total, mismatch: -1, closed: false });
  });

  test.each(RELAY_WAYS)(
    "room (%s): a reader slower than a flooding sender slows the sender; nobody loses or is dropped",
    async (_, way) => {
      // A small --max-queue: `slow` would pass it unless the room stopped reading the sender.
      const s = await start({ maxQueue: 512 * 1024 }, way);
      const slow = await FloodReader.join(s.port, "slow", "flood", true);
      const fast = await FloodReader.join(s.port, "fast", "flood");
      const sender = await member(s.port, "flood");
      const writing = writeAll(sender.socket, floodText(FLOOD_LINES));
      const heldAt = await roomHolds(FLOOD_LINES);
      expect(heldAt).toBeLessThan(FLOOD_LINES);
      expect(slow.closed).toBe(false);
      slow.socket.resume();
      await writing;
      await until(() => slow.count === FLOOD_LINES && fast.count === FLOOD_LINES, "every line to both readers", 20_000);
      expect(slow.inOrder && fast.inOrder).toBe(true);
      expect(events.some((e) => e.type === "leave")).toBe(false);
      expect(slow.closed || fast.closed || sender.closedAt !== null).toBe(false);
      expect(s.clients).toBe(3);
    },
  );
});

/** Writes without reading until the kernel takes nothing for `quietMs`; returns how much went in. */
async function writeUntilStalled(socket: Socket<undefined>, bytes: Uint8Array, quietMs = 500): Promise<number> {
  let sent = 0;
  let lastProgress = Date.now();
  while (sent < bytes.length && Date.now() - lastProgress < quietMs) {
    const n = socket.write(bytes.subarray(sent));
    if (n > 0) {
      sent += n;
      lastProgress = Date.now();
    } else await Bun.sleep(10);
  }
  return sent;
}

describe("flow control without loss: the server's own output", () => {
  test.skipIf(!existsSync("/usr/bin/mkfifo"))(
    "a server whose stdout is not read stops reading clients, then prints every line",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "chat-stdout-"));
      const fifo = join(dir, "stdout");
      const go = join(dir, "go");
      expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
      // Holds the pipe open without reading until `go` exists, then counts the lines.
      const reader = Bun.spawn({
        cmd: ["sh", "-c", `exec 0<"${fifo}"; while [ ! -e "${go}" ]; do sleep 0.02; done; exec wc -l`],
        stdout: "pipe",
      });
      const proc = Bun.spawn({
        cmd: ["sh", "-c", `exec "$0" "$1" serve --port 0 --host 127.0.0.1 --mode oneway > "${fifo}"`, process.execPath, CLI],
        stdout: "ignore",
        stderr: "pipe",
        env: { ...process.env, NO_COLOR: "1" },
      });
      try {
        let stderr = "";
        const decoder = new TextDecoder();
        const reading = (async () => {
          for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
        })();
        const port = Number((await until(() => /listening on \S+:(\d+)/.exec(stderr) ?? undefined, "the listening line", 10_000))[1]);
        const before = memory(proc.pid).hwm;
        const c = await client(port);
        const lines = 640_000;
        const bytes = encoder.encode(`${"z".repeat(99)}\n`.repeat(lines));
        const stalledAt = await writeUntilStalled(c.socket, bytes);
        expect(stalledAt).toBeLessThan(bytes.length / 2);
        expect(memory(proc.pid).hwm - before).toBeLessThan(32 * MiB);

        writeFileSync(go, "");
        await c.write(bytes.subarray(stalledAt));
        c.finish();
        await c.waitClosed(20_000);
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
        await reading;
        expect((await new Response(reader.stdout).text()).trim()).toBe(String(lines));
      } finally {
        proc.kill("SIGKILL");
        reader.kill("SIGKILL");
      }
    },
  );
});

describe("slow consumers", () => {
  // The room waits for a stalled reader STALL_MS (counted from when its queue began), checked every TICK_MS.
  const briefly = STALL_MS + TICK_MS + 750;

  test.each(RELAY_WAYS)(
    "(%s) a stalled reader is dropped past --max-queue with `* NAME left (too slow)`; the others get everything in order",
    async (_, way) => {
      const s = await start({ maxQueue: 512 * 1024 }, way);
      const stalled = await FloodReader.join(s.port, "stalled", "flood", true);
      const r1 = await FloodReader.join(s.port, "r1", "flood");
      const r2 = await FloodReader.join(s.port, "r2", "flood");
      const sender = await member(s.port, "flood");
      const started = Date.now();
      await writeAll(sender.socket, floodText(FLOOD_LINES));
      await until(() => r1.count === FLOOD_LINES && r2.count === FLOOD_LINES, "every line to both readers", 20_000);
      const took = Date.now() - started;
      expect(r1.inOrder && r2.inOrder).toBe(true);
      await until(() => stalled.closed, "the stalled reader to be disconnected");
      expect(r1.notices).toContain("* stalled left (too slow)");
      expect(r2.notices).toContain("* stalled left (too slow)");
      expect(events).toContainEqual(expect.objectContaining({ type: "leave", name: "stalled", reason: "too slow" }));
      expect(longestRelayPause()).toBeLessThan(briefly);
      expect(Math.max(r1.maxGapMs, r2.maxGapMs)).toBeLessThan(briefly);
      expect(took).toBeLessThan(15_000);
      expect(s.clients).toBe(3);
    },
  );

  test.each(RELAY_WAYS)(
    "(%s) a stalled reader within --max-queue holds the room up only briefly, and loses nothing when it reads again",
    async (_, way) => {
      const s = await start({ maxQueue: 64 * MiB }, way);
      const stalled = await FloodReader.join(s.port, "stalled", "flood", true);
      const reader = await FloodReader.join(s.port, "reader", "flood");
      const sender = await member(s.port, "flood");
      await writeAll(sender.socket, floodText(FLOOD_LINES));
      await until(() => reader.count === FLOOD_LINES, "every line to the reader", 20_000);
      expect(longestRelayPause()).toBeLessThan(briefly);
      expect(reader.maxGapMs).toBeLessThan(briefly);
      expect(stalled.count).toBeLessThan(FLOOD_LINES);
      stalled.socket.resume();
      await until(() => stalled.count === FLOOD_LINES, "every line to the stalled reader once it reads", 20_000);
      expect(stalled.inOrder && reader.inOrder).toBe(true);
      expect(stalled.closed).toBe(false);
      expect(events.some((e) => e.type === "leave")).toBe(false);
    },
  );
});

describe("--max-line", () => {
  const long = "x".repeat(10_000);

  test("twoway: a long line is cut at the limit, the sender is told, the rest is discarded", async () => {
    const s = await start();
    const alice = await member(s.port, "alice");
    const bob = await member(s.port, "bob");
    await alice.write(`${long}\nafter\n`);
    await bob.waitLine("alice: after");
    expect(bob.lines.filter((l) => l.startsWith("alice: "))).toEqual([`alice: ${"x".repeat(4096)}`, "alice: after"]);
    await alice.waitLine("! line too long: cut at 4096 bytes");
  });

  test("oneway and echo: the printed line is cut, the next line is intact; echo stays byte-exact", async () => {
    const s = await start({ mode: "oneway", maxLine: 100 });
    const c = await client(s.port);
    await c.write(`${long}\nnext\n`);
    await until(() => events.filter((e) => e.type === "message").length === 2, "two printed lines");
    expect(events.flatMap((e) => (e.type === "message" ? [e.text] : []))).toEqual(["x".repeat(100), "next"]);

    const e = await start({ mode: "echo", maxLine: 100 });
    const d = await client(e.port);
    await d.write(`${long}\n`);
    await d.waitLine(long);
    await until(() => events.some((ev) => ev.type === "message"), "the printed line");
    expect(events.flatMap((ev) => (ev.type === "message" ? [ev.text] : []))).toEqual(["x".repeat(100)]);
  });

  for (const mode of ["oneway", "twoway"]) {
    test(`${mode}: server memory stays flat under a 64 MiB line with no newline`, async () => {
      const s = await server(["--mode", mode, "--host", "127.0.0.1"]);
      const watcher = mode === "twoway" ? await member(s.port, "watcher") : null;
      const before = memory(s.proc.pid);
      const sender = await client(s.port);
      const chunk = encoder.encode("y".repeat(MiB));
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
    const s = await start({ maxClients: 2 });
    const a = await member(s.port, "alice");
    const b = await member(s.port, "bob");
    const extra = await client(s.port);
    await extra.waitClosed();
    expect(extra.text).toBe("! server full\n");
    expect(statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: server full$/));
    await a.write("still here\n");
    await b.waitLine("alice: still here");
    b.finish();
    await a.waitLine("* bob left");
    const next = await client(s.port);
    await next.waitLine(/^\* welcome, you are guest-\d+ /);
  });

  for (const mode of ["echo", "oneway"] as const) {
    test(`${mode}: one too many is closed without a byte; the others are served`, async () => {
      const s = await start({ mode, maxClients: 1 });
      const first = await client(s.port);
      const extra = await client(s.port);
      await extra.waitClosed();
      expect(extra.bytes.length).toBe(0);
      expect(statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: server full$/));
      await first.write("served\n");
      if (mode === "echo") await first.waitLine("served");
      else await until(() => events.some((e) => e.type === "message" && e.text === "served"), "the printed line");
      expect(first.closedAt).toBeNull();
    });
  }
});

describe("--idle-timeout", () => {
  test("twoway: a silent client is disconnected and the room told; an active one stays", async () => {
    const s = await start({ idleTimeoutMs: 600 });
    const quiet = await member(s.port, "quiet");
    const quietPeer = `127.0.0.1:${quiet.socket.localPort}`;
    const busy = await member(s.port, "busy");
    await quiet.waitLine("* busy joined");
    let talking = true;
    const talk = (async () => {
      for (let i = 0; talking; i++) {
        await busy.write(`ping ${i}\n`);
        await Bun.sleep(100);
      }
    })();
    await quiet.waitLine("! no input for 600ms, disconnecting", 3000);
    await quiet.waitClosed();
    await busy.waitLine("* quiet timed out");
    await Bun.sleep(800);
    talking = false;
    await talk;
    expect(busy.closedAt).toBeNull();
    expect(statuses).toContain(`${quietPeer} timed out`);
    expect(statuses.filter((t) => t.endsWith("timed out"))).toHaveLength(1);
    expect(events).toContainEqual(expect.objectContaining({ type: "leave", name: "quiet", reason: "timed out" }));
  });

  test("the time-out counts from a client's last input: never early, at most a couple of ticks late", async () => {
    const s = await start({ idleTimeoutMs: 400 });
    const c = await member(s.port, "talker");
    // Input now and then keeps it; each line restarts the count.
    for (let i = 0; i < 4; i++) {
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

  test("echo: the silent client and one that stopped reading its echo are closed, the active one is not", async () => {
    const s = await start({ mode: "echo", idleTimeoutMs: 400 });
    const quiet = await client(s.port);
    const busy = await client(s.port);
    // Sends until the server stops reading it (its echo is not read), then can only wait.
    const deaf = await client(s.port);
    const deafPeer = `127.0.0.1:${deaf.socket.localPort}`;
    deaf.socket.pause();
    const block = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 64 && deaf.socket.write(block) > 0; i++) await Bun.sleep(1);
    const started = Date.now();
    while (Date.now() - started < 1500) {
      await busy.write("x\n");
      await Bun.sleep(100);
    }
    await quiet.waitClosed();
    await until(() => statuses.filter((t) => t.endsWith("timed out")).length === 2, "two time-outs");
    expect(statuses).toContain(`${deafPeer} timed out`);
    expect(busy.closedAt).toBeNull();
  });
});

describe("--allow / --deny", () => {
  const cidrs = (...texts: string[]) => texts.map((t) => parseCidr(t) ?? expect.unreachable(t));

  test("IPv4 denied, IPv6 allowed: `! not allowed`, closed, logged", async () => {
    const s = await start({ host: "::", deny: cidrs("127.0.0.0/8") });
    const v4 = await client(s.port, "127.0.0.1");
    await v4.waitClosed();
    expect(v4.text).toBe("! not allowed\n");
    expect(statuses).toContainEqual(expect.stringMatching(/^refused 127\.0\.0\.1:\d+: not allowed$/));
    const v6 = await client(s.port, "::1");
    await v6.waitLine(/^\* welcome, you are guest-\d+ /);
  });

  test("only IPv6 allowed: an IPv4 client is told `! address not allowed`", async () => {
    const s = await start({ host: "::", allow: cidrs("::1/128") });
    const v4 = await client(s.port, "127.0.0.1");
    await v4.waitClosed();
    expect(v4.text).toBe("! address not allowed\n");
    const v6 = await client(s.port, "::1");
    await v6.waitLine(/^\* welcome, you are guest-\d+ /);
    expect(statuses).toEqual([expect.stringMatching(/^refused 127\.0\.0\.1:\d+: address not allowed$/)]);
  });

  test("IPv6 denied by prefix, IPv4 allowed by block; echo refuses without a byte", async () => {
    const s = await start({ host: "::", mode: "echo", allow: cidrs("127.0.0.0/8", "::/0"), deny: cidrs("::1/120") });
    const v6 = await client(s.port, "::1");
    await v6.waitClosed();
    expect(v6.bytes.length).toBe(0);
    expect(statuses).toContainEqual(expect.stringMatching(/^refused \[::1\]:\d+: not allowed$/));
    const v4 = await client(s.port, "127.0.0.1");
    await v4.write("hello\n");
    await v4.waitLine("hello");
  });
});

describe("shutdown", () => {
  test("SIGTERM: stops accepting, tells the room, flushes queues within the grace, clients see EOF, exit 0", async () => {
    const s = await server(["--host", "127.0.0.1"]);
    const reader = await member(s.port, "reader");
    const stuck = await member(s.port, "stuck");
    const talker = await member(s.port, "talker");
    const cc = runCli(["connect", "127.0.0.1", String(s.port)]);
    processes.push(cc);
    await cc.waitOut(/^\* welcome/m);
    reader.socket.pause();
    stuck.socket.pause();
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"z".repeat(90)}`);
    await talker.write(`${lines.join("\n")}\n`);
    await s.waitOut(/talker: line 2999 /, 10_000);

    const signalled = Date.now();
    s.kill("SIGTERM");
    await s.waitErr(/shutting down/);
    await expect(Bun.connect({ hostname: "127.0.0.1", port: s.port, socket: { data() {}, error() {} } })).rejects.toThrow();
    reader.socket.resume();
    await reader.waitClosed(SHUTDOWN_GRACE_MS + 2000);
    const got = reader.lines.filter((l) => l.startsWith("talker: "));
    expect(got).toEqual(lines.map((l) => `talker: ${l}`));
    expect(reader.lines.at(-1)).toBe("* server shutting down");
    expect(await cc.exited).toBe(0);
    expect(cc.stdout()).toContain("* server shutting down");
    expect(await s.exited).toBe(0);
    // `stuck` never read: the grace is bounded.
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_GRACE_MS + 2000);
    await stuck.waitClosed();
  });

  test("a second SIGINT exits 130 at once", async () => {
    const s = await server(["--host", "127.0.0.1"]);
    const stuck = await member(s.port, "stuck");
    stuck.socket.pause();
    s.kill("SIGINT");
    await s.waitErr(/shutting down/);
    const second = Date.now();
    s.kill("SIGINT");
    expect(await s.exited).toBe(130);
    expect(Date.now() - second).toBeLessThan(1000);
  });

  test("what a full stdout pipe has not taken yet is written before exit", async () => {
    // Bun drops what a pipe has not taken when the process exits: StdoutWriter.drained waits for it.
    const script = join(mkdtempSync(join(tmpdir(), "chat-drain-")), "write.ts");
    const output = new URL("../src/output.ts", import.meta.url).pathname;
    writeFileSync(
      script,
      `import { StdoutWriter } from ${JSON.stringify(output)};
const out = new StdoutWriter();
for (let i = 0; i < 20000; i++) out.text("${"z".repeat(99)}\\n");
await out.drained();
process.exit(0);
`,
    );
    const run = Bun.spawn({ cmd: ["sh", "-c", `"$0" "$1" | (sleep 0.5; exec wc -l)`, process.execPath, script], stdout: "pipe" });
    expect((await new Response(run.stdout).text()).trim()).toBe("20000");
    expect(await run.exited).toBe(0);
  });

  test("chat connect exits 0 when an echo server goes away", async () => {
    const s = await server(["--mode", "echo", "--host", "127.0.0.1"]);
    const cc = runCli(["connect", "127.0.0.1", String(s.port)]);
    processes.push(cc);
    await s.waitErr(/connected/);
    cc.write("ping\n");
    await cc.waitOut(/^ping$/m);
    s.kill("SIGTERM");
    expect(await cc.exited).toBe(0);
    expect(await s.exited).toBe(0);
    expect(cc.stderr()).toContain("disconnected");
  });
});

describe("telnet", () => {
  const iacMix = Uint8Array.from([
    0xff,
    0xfb,
    0x01,
    ...encoder.encode("hel"),
    0xff,
    0xfd,
    0x03,
    ...encoder.encode("lo "),
    0xff,
    0xfa,
    0x18,
    0x01,
    0xff,
    0xf0,
    ...encoder.encode("world"),
    0xff,
    0xf1,
    0x0d,
    0x0a,
  ]);

  test("IAC negotiation is stripped from what is relayed and printed in a room", async () => {
    const s = await start();
    const alice = await member(s.port, "alice");
    const bob = await member(s.port, "bob");
    await alice.write(iacMix);
    await bob.waitLine("alice: hello world");
    expect(events).toContainEqual({ type: "message", from: "alice", text: "hello world" });
  });

  test("oneway prints it stripped; echo sends the bytes back unchanged but prints them stripped", async () => {
    const oneway = await start({ mode: "oneway" });
    const o = await client(oneway.port);
    await o.write(iacMix);
    await until(() => events.some((e) => e.type === "message"), "the printed line");
    expect(events.filter((e) => e.type === "message")).toEqual([expect.objectContaining({ text: "hello world" })]);

    const echo = await start({ mode: "echo" });
    const e = await client(echo.port);
    await e.write(iacMix);
    await until(() => e.bytes.length === iacMix.length, "the echo");
    expect(e.bytes).toEqual(iacMix);
    await until(() => events.some((ev) => ev.type === "message"), "the printed line");
    expect(events.filter((ev) => ev.type === "message")).toEqual([expect.objectContaining({ text: "hello world" })]);
  });

  test.skipIf(!existsSync("/usr/bin/telnet"))("the real telnet client chats in a room, in line and character mode", async () => {
    const s = await start();
    const bob = await member(s.port, "bob");
    const telnet = Bun.spawn({ cmd: ["/usr/bin/telnet", "127.0.0.1", String(s.port)], stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      let out = "";
      const reading = (async () => {
        for await (const chunk of telnet.stdout) out += new TextDecoder().decode(chunk);
      })();
      const type = (text: string) => {
        telnet.stdin.write(text);
        telnet.stdin.flush();
      };
      await until(() => out.includes("* welcome, you are"), "telnet to print the greeting");
      type("hello from telnet\n");
      await bob.waitLine(/^guest-\d+: hello from telnet$/);
      // Character mode makes telnet negotiate (IAC DO SGA, IAC DO ECHO) and send CR NUL.
      // telnet drops what follows an escape command in the same read: no event tells
      // when it is ready for more, so pause briefly after each.
      type("\x1dmode character\n");
      await Bun.sleep(200);
      type("\x1dsend ayt\n");
      await Bun.sleep(200);
      type("second line\r\n");
      await bob.waitLine(/^guest-\d+: second line$/);
      await bob.write("hi telnet\n");
      await until(() => out.includes("bob: hi telnet"), "telnet to print bob's line");
      const relayed = bob.lines.filter((l) => l.startsWith("guest-"));
      expect(relayed.map((l) => l.replace(/^guest-\d+: /, ""))).toEqual(["hello from telnet", "second line"]);
      for (const e of events) expect(JSON.stringify(e)).not.toMatch(/\\u00ff|\uFFFD|\^@|\^M/);
      telnet.kill("SIGKILL");
      await reading;
    } finally {
      telnet.kill("SIGKILL");
      await telnet.exited;
    }
  });
});

const RESETS_PY = `
import socket, struct, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.send(b"half a line that never ends " * 200)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;

/** Random bytes, resets mid-write, connect-and-vanish, and a burst of `burst` connections. */
async function abuse(port: number, burst: number): Promise<void> {
  const blobs = Array.from({ length: 12 }, (_, i) => ({ bytes: crypto.getRandomValues(new Uint8Array(64 * 1024)), reset: i % 2 === 1 }));
  await Promise.all(
    blobs.map(async ({ bytes, reset }) => {
      const c = await client(port);
      if (reset) {
        c.socket.write(bytes);
        c.close();
      } else {
        await c.write(bytes);
        c.finish();
      }
    }),
  );
  const vanish = await Promise.all(
    Array.from({ length: 100 }, () => Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } })),
  );
  for (const socket of vanish) socket.terminate();
  const py = Bun.spawn({ cmd: ["python3", "-c", RESETS_PY, String(port), "200"], stdout: "ignore", stderr: "pipe" });
  expect(await py.exited).toBe(0);
  const crowd = await Promise.all(
    Array.from({ length: burst }, () => Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } })),
  );
  for (const [i, socket] of crowd.entries()) {
    socket.write("one line from the crowd\n");
    if (i % 2) socket.terminate();
    else socket.end();
  }
}

describe("abuse", () => {
  for (const [mode, burst] of [
    ["twoway", 1000],
    ["echo", 1000],
    ["oneway", 1000],
  ] as const) {
    test(`${mode}: random bytes, resets, vanishing clients and ${burst} connections at once: no crash, no leaked socket`, async () => {
      const s = await server(["--mode", mode, "--host", "127.0.0.1"]);
      const pid = s.proc.pid;
      const warm = await client(s.port);
      await warm.write("warm up\n");
      warm.close();
      await until(() => (mode === "twoway" ? true : s.stderr().includes("disconnected")), "the warm-up client to leave");
      await Bun.sleep(100);
      const baseline = openFds(pid);

      await abuse(s.port, burst);
      for (const c of clients.splice(0)) c.close();
      await until(() => openFds(pid) <= baseline, `fds back to ${baseline} after the abuse (have ${openFds(pid)})`, 15_000);

      const after = await client(s.port);
      if (mode === "twoway") {
        await after.waitLine(/^\* welcome, you are /, 10_000);
        const other = await member(s.port, "other");
        await after.write("still alive\n");
        await other.waitLine(/: still alive$/, 10_000);
        other.close();
      } else {
        await after.write("still alive\n");
        if (mode === "echo") await after.waitLine("still alive", 10_000);
        else await s.waitOut(/: still alive$/m, 10_000);
      }
      after.close();
      await until(() => openFds(pid) <= baseline, `fds back to ${baseline} (have ${openFds(pid)})`);
      expect(memory(pid).hwm).toBeLessThan(300 * MiB);
      s.kill("SIGTERM");
      expect(await s.exited).toBe(0);
      expect(s.stderr()).not.toMatch(/error|exception|panic/i);
    });
  }
});
