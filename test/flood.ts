/**
 * Tools of the flood and resource tests: numbered flood lines, a room reader
 * that counts them without keeping them, writing until the server stops
 * reading, a room that stops relaying, and a process's memory and open files
 * read from /proc.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Socket } from "bun";
import type { TestServer } from "./fixture.ts";
import { until } from "./helpers.ts";

export const MiB = 1024 * 1024;
const encoder = new TextEncoder();

/** `/proc/PID/status` fields, in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Closes a raw Bun socket with a reset when disposed (a Bun socket's own
 * dispose ends it gracefully, which waits on what it has not sent).
 */
export function terminating(socket: Socket<undefined>): Disposable {
  return { [Symbol.dispose]: () => socket.terminate() };
}

/**
 * A room reader that counts numbered flood lines (`FROM: #N ...`) without
 * keeping them, checks they arrive in order, and notes the longest gap.
 * `using` closes it.
 */
export class FloodReader implements Disposable {
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
    try {
      reader.socket.write(`/nick ${name}\n`);
      await until(() => reader.notices.includes(`* you are now ${name}`), `${name}'s rename`);
    } catch (error) {
      reader.socket.terminate();
      throw error;
    }
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

  [Symbol.dispose](): void {
    this.socket.terminate();
  }
}

/**
 * Enough numbered lines (about `size` bytes each) to overflow the kernel's
 * socket buffers on loopback (several MiB with autotuning), so a reader that
 * does not read makes a queue build up in the server.
 */
export const FLOOD_LINES = 100_000;

/** `count` numbered lines of about `size` bytes each. */
export function floodText(count: number, size = 100): Uint8Array {
  const pad = "x".repeat(Math.max(0, size - 10));
  let text = "";
  for (let i = 0; i < count; i++) text += `#${i} ${pad}\n`;
  return encoder.encode(text);
}

/** The room's two ways of handing over what it relays: events per line, or bytes many lines at a time. */
export const RELAY_WAYS = [
  ["events", "events"],
  ["printed bytes", "bytes"],
] as const;

/** The longest time the room relayed nothing, from its first line to its last. */
export function longestRelayPause(s: TestServer): number {
  const times = s.lineTimes;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return longest;
}

/** Waits until the room relays nothing for `quietMs` although `total` lines were not all relayed: it stopped reading. */
export async function roomHolds(s: TestServer, total: number, quietMs = 150): Promise<number> {
  let seen = -1;
  let since = Date.now();
  return until(
    () => {
      const now = Date.now();
      if (s.lineTimes.length !== seen) {
        seen = s.lineTimes.length;
        since = now;
      }
      return seen < total && now - since >= quietMs ? seen : undefined;
    },
    "the room to stop reading the sender",
    10_000,
  );
}

/** Writes without reading until the kernel takes nothing for `quietMs`; returns how much went in. */
export async function writeUntilStalled(socket: Socket<undefined>, bytes: Uint8Array, quietMs = 500): Promise<number> {
  let sent = 0;
  let lastProgress = Date.now();
  while (sent < bytes.length && Date.now() - lastProgress < quietMs) {
    const n = socket.write(bytes.subarray(sent));
    if (n > 0) {
      sent += n;
      lastProgress = Date.now();
      continue;
    }
    // Proving an absence (nothing taken for quietMs) takes time: the kernel is asked again every 10 ms.
    await Bun.sleep(10);
  }
  return sent;
}
