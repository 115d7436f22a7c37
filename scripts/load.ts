/**
 * Tools for scripts/reliability.ts: the compiled server as a measured child
 * process, and load-generating peers (plain loopback sockets in this process,
 * a python3 script for SO_LINGER-0 resets).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Socket } from "bun";

export const MiB = 1024 * 1024;
const LF = 10;
const STDOUT_TAIL = 256 * 1024;

/** One `chat serve` process: its port, its stdout and stderr, its memory and file descriptors. */
export class ServerProcess {
  private constructor(
    readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">,
    readonly port: number,
    private readonly output: { stdout: string; stderr: string; stdoutBytes: number },
  ) {}

  /** `fdLimit`: run it under `ulimit -n fdLimit` (soft and hard). */
  static async start(binary: string, args: string[], options: { fdLimit?: number } = {}): Promise<ServerProcess> {
    const serve = [binary, "serve", "--port", "0", "--host", "127.0.0.1", ...args];
    // exec: the server keeps the shell's pid, so its /proc entries are the server's.
    const cmd = options.fdLimit ? ["sh", "-c", `ulimit -n ${options.fdLimit} && exec "$@"`, "sh", ...serve] : serve;
    const proc = Bun.spawn({
      cmd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const output = { stdout: "", stderr: "", stdoutBytes: 0 };
    collect(proc.stdout, (text) => {
      // Only the tail is kept: random input can make hundreds of MiB of printed text.
      output.stdout = (output.stdout + text).slice(-STDOUT_TAIL);
      output.stdoutBytes += text.length;
    });
    collect(proc.stderr, (text) => {
      output.stderr += text;
    });
    const match = await waitFor(() => /listening on \S+:(\d+)/.exec(output.stderr) ?? undefined, "the listening line", 10_000);
    return new ServerProcess(proc, Number(match[1]), output);
  }

  /** The last STDOUT_TAIL characters the server printed (stdout is read as it comes, so its pipe never fills). */
  get stdout(): string {
    return this.output.stdout;
  }

  get stdoutChars(): number {
    return this.output.stdoutBytes;
  }

  get stderr(): string {
    return this.output.stderr;
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** `/proc/PID/status` field in bytes (VmRSS now, VmHWM the peak). */
  memory(field: "VmRSS" | "VmHWM"): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  }

  /** CPU time the server has used so far, user and system, in ms (`/proc/PID/stat`, 100 ticks a second). */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** CPU time used so far (user + system), in seconds: fields 14 and 15 of /proc/PID/stat, at 100 ticks a second. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<number> {
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    const code = await this.proc.exited;
    clearTimeout(timer);
    return code;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

/** Polls until `check` gives a value, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await Bun.sleep(10);
  }
}

export interface PeerOptions {
  /** Keep received lines (decoded) for inspection; otherwise only count them. */
  keepLines?: boolean;
  /** Called with each received line (decoded, without the newline). */
  onLine?: (line: string) => void;
  /** Called with each received chunk (raw bytes, valid during the call). */
  onChunk?: (chunk: Uint8Array) => void;
}

/** A loopback client: counts what it receives, waits for drain when writing. */
export class Peer {
  private static readonly open = new Set<Peer>();

  socket!: Socket<undefined>;
  bytes = 0;
  lineCount = 0;
  readonly lines: string[] = [];
  closed = false;
  private rest = "";
  private readonly decoder = new TextDecoder();
  private drainWaiter: (() => void) | null = null;

  private constructor(private readonly options: PeerOptions) {}

  static async connect(port: number, options: PeerOptions = {}): Promise<Peer> {
    const peer = new Peer(options);
    peer.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      socket: {
        data: (_s, chunk) => peer.take(chunk),
        drain: () => peer.drainWaiter?.(),
        close: () => {
          peer.closed = true;
          Peer.open.delete(peer);
          peer.drainWaiter?.();
        },
        error() {},
      },
    });
    if (!peer.closed) Peer.open.add(peer);
    return peer;
  }

  /** Resets every connection still open (the end of a case). */
  static closeAll(): void {
    for (const peer of Peer.open) peer.socket.terminate();
    Peer.open.clear();
  }

  private take(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.options.onChunk?.(chunk);
    if (!this.options.keepLines && !this.options.onLine) {
      for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) this.lineCount++;
      return;
    }
    const lines = (this.rest + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) {
      this.lineCount++;
      if (this.options.keepLines) this.lines.push(line);
      this.options.onLine?.(line);
    }
  }

  /** Writes everything, waiting for `drain` whenever the kernel takes less. */
  async write(data: string | Uint8Array): Promise<void> {
    let rest = typeof data === "string" ? new TextEncoder().encode(data) : data;
    while (rest.length > 0) {
      const n = this.socket.write(rest);
      if (n < 0 || this.closed) throw new Error("connection closed while writing");
      rest = rest.subarray(n);
      if (rest.length > 0) await this.drained();
    }
  }

  /** Resolves on the next `drain` (or after a short while, in case it came before we waited). */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 50);
      this.drainWaiter = () => {
        clearTimeout(timer);
        this.drainWaiter = null;
        resolve();
      };
    });
  }
}

/** A room participant, renamed to `name`. */
export async function roomMember(port: number, name: string, options: PeerOptions = {}): Promise<Peer> {
  const peer = await Peer.connect(port, { keepLines: true, ...options });
  await peer.write(`/nick ${name}\n`);
  await waitFor(() => peer.lines.includes(`* you are now ${name}`), `${name}'s rename`, 10_000);
  return peer;
}

/** Connections opened at once: thousands at once overflow the kernel's accept queue (a client then waits seconds for its SYN retry). */
const CONNECT_BATCH = 250;

/** Opens `count` connections, a batch at a time. */
export async function crowd(port: number, count: number, options: PeerOptions = {}): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    const batch = Math.min(CONNECT_BATCH, count - i);
    peers.push(...(await Promise.all(Array.from({ length: batch }, () => Peer.connect(port, options)))));
  }
  return peers;
}

const RESETS_PY = `
import socket, struct, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.send(b"a line cut short by a reset " * 100)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;

/** `count` connections closed with RST (SO_LINGER 0) right after connecting, half of them mid-line. */
export async function resets(port: number, count: number): Promise<void> {
  const proc = Bun.spawn({ cmd: ["python3", "-c", RESETS_PY, String(port), String(count)], stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`python3 resets failed: ${await new Response(proc.stderr).text()}`);
}

/**
 * `count` connections that never read (test/peers/non_readers.py: a 4 KiB receive buffer
 * each), held by a python3 process until `close`.
 */
export async function nonReaders(port: number, count: number): Promise<{ close(): void }> {
  const script = new URL("../test/peers/non_readers.py", import.meta.url).pathname;
  const proc = Bun.spawn({ cmd: ["python3", script, String(port), String(count)], stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const first = await proc.stdout.getReader().read();
  const connected = Number(new TextDecoder().decode(first.value).trim());
  if (connected !== count) throw new Error(`python3 non-readers: ${await new Response(proc.stderr).text()}`);
  return { close: () => proc.kill() };
}

/** Random bytes repeating with a prime period, so a long stream can be checked without keeping it. */
export class Pattern {
  static readonly PERIOD = 65_521;
  static readonly BLOCK = 256 * 1024;
  private readonly cycle: Buffer;

  constructor() {
    const period = crypto.getRandomValues(new Uint8Array(Pattern.PERIOD));
    this.cycle = Buffer.alloc(Pattern.PERIOD + Pattern.BLOCK);
    for (let at = 0; at < this.cycle.length; at += Pattern.PERIOD) {
      this.cycle.set(period.subarray(0, Math.min(Pattern.PERIOD, this.cycle.length - at)), at);
    }
  }

  /** The bytes from stream offset `from`, at most BLOCK of them. */
  at(from: number, length: number): Buffer {
    const start = from % Pattern.PERIOD;
    return this.cycle.subarray(start, start + Math.min(length, Pattern.BLOCK));
  }

  /** Whether `chunk`, received at stream offset `from`, is what was sent. */
  matches(from: number, chunk: Uint8Array): boolean {
    for (let at = 0; at < chunk.length; at += Pattern.BLOCK) {
      const part = chunk.subarray(at, at + Pattern.BLOCK);
      if (!this.at(from + at, part.length).equals(part)) return false;
    }
    return true;
  }
}

/** Random bytes of any size (getRandomValues gives at most 64 KiB at a time). */
export function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65_536)));
  return bytes;
}
