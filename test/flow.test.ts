/**
 * Flow control (issue 4): a client that does not read, a reader slower than
 * a flooding sender, a stalled reader, and a server whose own stdout is not
 * read; nothing is lost, and only a reader past --max-queue is dropped.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STALL_MS } from "../src/room/room.ts";
import { TICK_MS } from "../src/server.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import {
  FLOOD_LINES,
  FloodReader,
  floodText,
  longestRelayPause,
  MiB,
  memory,
  RELAY_WAYS,
  roomHolds,
  terminating,
  writeUntilStalled,
} from "./flood.ts";
import { CLI, until } from "./helpers.ts";

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
    await using s = await testServer({ mode: "echo" });
    const total = 48 * MiB;
    let received = 0;
    let mismatch = -1;
    let closed = false;
    let writable = () => {};
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
        drain() {
          writable();
        },
        close() {
          closed = true;
          writable();
        },
        error() {},
      },
    });
    using _socket = terminating(socket);
    socket.pause();
    // Write without reading until the kernel takes nothing for a while: the server stopped reading.
    // An absence takes a time to prove: the kernel is asked again every 10 ms for 400 ms.
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
      if (n < 0 || closed) throw new Error("echo connection closed");
      sent += n;
      if (n === 0) await new Promise<void>((resolve) => (writable = resolve));
    }
    await until(() => received >= total || closed, "the whole echo", 20_000);
    expect({ received, mismatch, closed }).toEqual({ received: total, mismatch: -1, closed: false });
  });

  test.each(RELAY_WAYS)(
    "room (%s): a reader slower than a flooding sender slows the sender; nobody loses or is dropped",
    async (_, relay) => {
      // A small --max-queue: `slow` would pass it unless the room stopped reading the sender.
      await using s = await testServer({ maxQueue: 512 * 1024, relay });
      using slow = await FloodReader.join(s.port, "slow", "flood", true);
      using fast = await FloodReader.join(s.port, "fast", "flood");
      using sender = await testMember(s.port, "flood");
      const writing = sender.write(floodText(FLOOD_LINES), 20_000);
      const heldAt = await roomHolds(s, FLOOD_LINES);
      expect(heldAt).toBeLessThan(FLOOD_LINES);
      expect(slow.closed).toBe(false);
      slow.socket.resume();
      await writing;
      await until(() => slow.count === FLOOD_LINES && fast.count === FLOOD_LINES, "every line to both readers", 20_000);
      expect(slow.inOrder && fast.inOrder).toBe(true);
      expect(s.events.some((e) => e.type === "leave")).toBe(false);
      expect(slow.closed || fast.closed || sender.closedAt !== null).toBe(false);
      expect(s.clients).toBe(3);
    },
  );
});

describe("flow control without loss: the server's own output", () => {
  test.skipIf(!existsSync("/usr/bin/mkfifo"))(
    "a server whose stdout is not read stops reading clients, then prints every line",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "chat-stdout-"));
      const fifo = join(dir, "stdout");
      const go = join(dir, "go");
      expect(Bun.spawnSync(["mkfifo", fifo, go]).exitCode).toBe(0);
      // Holds the pipe open without reading until something is written to `go`, then counts the lines.
      const reader = Bun.spawn({
        cmd: ["sh", "-c", `exec 0<"${fifo}"; read -r ready < "${go}"; exec wc -l`],
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
        using c = await testClient(port);
        const lines = 640_000;
        const bytes = new TextEncoder().encode(`${"z".repeat(99)}\n`.repeat(lines));
        const stalledAt = await writeUntilStalled(c.socket, bytes);
        expect(stalledAt).toBeLessThan(bytes.length / 2);
        expect(memory(proc.pid).hwm - before).toBeLessThan(32 * MiB);

        await writeFile(go, "go\n");
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
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("slow consumers", () => {
  // The room waits for a stalled reader STALL_MS (counted from when its queue began), checked every TICK_MS.
  const briefly = STALL_MS + TICK_MS + 750;

  test.each(RELAY_WAYS)(
    "(%s) a stalled reader is dropped past --max-queue with `* NAME left (too slow)`; the others get everything in order",
    async (_, relay) => {
      await using s = await testServer({ maxQueue: 512 * 1024, relay });
      using stalled = await FloodReader.join(s.port, "stalled", "flood", true);
      using r1 = await FloodReader.join(s.port, "r1", "flood");
      using r2 = await FloodReader.join(s.port, "r2", "flood");
      using sender = await testMember(s.port, "flood");
      const started = Date.now();
      await sender.write(floodText(FLOOD_LINES), 20_000);
      await until(() => r1.count === FLOOD_LINES && r2.count === FLOOD_LINES, "every line to both readers", 20_000);
      const took = Date.now() - started;
      expect(r1.inOrder && r2.inOrder).toBe(true);
      await until(() => stalled.closed, "the stalled reader to be disconnected");
      expect(r1.notices).toContain("* stalled left (too slow)");
      expect(r2.notices).toContain("* stalled left (too slow)");
      expect(s.events).toContainEqual(expect.objectContaining({ type: "leave", name: "stalled", reason: "too slow" }));
      expect(longestRelayPause(s)).toBeLessThan(briefly);
      expect(Math.max(r1.maxGapMs, r2.maxGapMs)).toBeLessThan(briefly);
      expect(took).toBeLessThan(15_000);
      expect(s.clients).toBe(3);
    },
  );

  test.each(RELAY_WAYS)(
    "(%s) a stalled reader within --max-queue holds the room up only briefly, and loses nothing when it reads again",
    async (_, relay) => {
      await using s = await testServer({ maxQueue: 64 * MiB, relay });
      using stalled = await FloodReader.join(s.port, "stalled", "flood", true);
      using reader = await FloodReader.join(s.port, "reader", "flood");
      using sender = await testMember(s.port, "flood");
      await sender.write(floodText(FLOOD_LINES), 20_000);
      await until(() => reader.count === FLOOD_LINES, "every line to the reader", 20_000);
      expect(longestRelayPause(s)).toBeLessThan(briefly);
      expect(reader.maxGapMs).toBeLessThan(briefly);
      expect(stalled.count).toBeLessThan(FLOOD_LINES);
      stalled.socket.resume();
      await until(() => stalled.count === FLOOD_LINES, "every line to the stalled reader once it reads", 20_000);
      expect(stalled.inOrder && reader.inOrder).toBe(true);
      expect(stalled.closed).toBe(false);
      expect(s.events.some((e) => e.type === "leave")).toBe(false);
    },
  );
});
