/** Shared test tools: raw loopback clients, CLI processes, and waiting with deadlines. */
import type { Socket } from "bun";
import { type Subprocess, spawn } from "bun";

export const ROOT = new URL("..", import.meta.url).pathname;
export const CLI = `${ROOT}src/cli.ts`;
export const BINARY = `${ROOT}dist/chat`;

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    // The poll interval: for state that no event announces (what a socket or a process has printed so far).
    await Bun.sleep(10);
  }
}

/** A plain TCP client that records every byte and line it receives; `using` closes it. */
export class RawClient implements Disposable {
  bytes = new Uint8Array(0);
  closedAt: number | null = null;
  /** Resolves the pending `write` when the kernel can take more (or the socket closed). */
  private writable: (() => void) | null = null;
  private constructor(readonly socket: Socket<undefined>) {}

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    let client: RawClient | null = null;
    const early: Uint8Array[] = [];
    // A socket can close before `connect` resolves (refused, reset): remembered for the client.
    let closedEarly: number | null = null;
    const socket = await Bun.connect({
      hostname: host,
      port,
      allowHalfOpen: true,
      socket: {
        data(_s, chunk) {
          if (client) client.append(chunk);
          else early.push(chunk.slice());
        },
        drain() {
          client?.writable?.();
        },
        close() {
          if (!client) {
            closedEarly = Date.now();
            return;
          }
          client.closedAt = Date.now();
          client.writable?.();
        },
        error() {},
      },
    });
    client = new RawClient(socket);
    for (const chunk of early) client.append(chunk);
    client.closedAt = closedEarly;
    return client;
  }

  private append(chunk: Uint8Array): void {
    const next = new Uint8Array(this.bytes.length + chunk.length);
    next.set(this.bytes);
    next.set(chunk, this.bytes.length);
    this.bytes = next;
  }

  get text(): string {
    return new TextDecoder().decode(this.bytes);
  }

  get lines(): string[] {
    const text = this.text;
    const lines = text.split("\n");
    lines.pop();
    return lines;
  }

  /** Writes everything: what the kernel did not take is written again on `drain`. */
  async write(data: string | Uint8Array, timeoutMs = 10_000): Promise<void> {
    let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const deadline = Date.now() + timeoutMs;
    while (bytes.length > 0) {
      const n = this.socket.write(bytes);
      if (n < 0) throw new Error("socket closed while writing");
      bytes = bytes.subarray(n);
      if (bytes.length === 0) break;
      if (this.closedAt !== null) throw new Error("socket closed while writing");
      await this.drained(deadline);
    }
  }

  private drained(deadline: number): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => reject(new Error("write stalled")), Math.max(0, deadline - Date.now()));
    this.writable = () => {
      this.writable = null;
      clearTimeout(timer);
      resolve();
    };
    return promise;
  }

  /** Waits for a received line matching `pattern` (exact string or RegExp). */
  async waitLine(pattern: string | RegExp, timeoutMs = 5000): Promise<string> {
    return until(
      () => this.lines.find((line) => (typeof pattern === "string" ? line === pattern : pattern.test(line))),
      `line ${pattern} (have: ${JSON.stringify(this.lines.slice(-5))})`,
      timeoutMs,
    );
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await until(() => this.closedAt !== null, "the server to close the connection", timeoutMs);
  }

  /** Half-close: FIN, keep reading. */
  finish(): void {
    this.socket.shutdown();
  }

  close(): void {
    this.socket.terminate();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A CLI process; `await using` kills it (SIGKILL) and waits for it. */
export interface Cli extends AsyncDisposable {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
  /** Waits until stderr (or stdout) contains the pattern; returns the match. */
  waitErr: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  waitOut: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  write: (text: string) => void;
  endInput: () => void;
  kill: (signal?: NodeJS.Signals) => void;
}

async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
}

/** Spawns the CLI from source (or the compiled binary) with NO_COLOR and piped stdio. */
export function runCli(args: string[], options: { binary?: boolean; env?: Record<string, string> } = {}): Cli {
  const cmd = options.binary ? [BINARY, ...args] : [process.execPath, CLI, ...args];
  const proc = spawn({
    cmd,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", USER: "", ...options.env },
  });
  const out = { text: "" };
  const err = { text: "" };
  const reading = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);
  const waitIn =
    (sink: { text: string }, name: string) =>
    (pattern: RegExp, timeoutMs = 10_000) =>
      until(
        () => sink.text.match(pattern) ?? undefined,
        `${name} to match ${pattern} (have: ${JSON.stringify(sink.text.slice(-300))})`,
        timeoutMs,
      );
  return {
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    exited: proc.exited.then(async (code) => {
      await reading;
      return code;
    }),
    waitErr: waitIn(err, "stderr"),
    waitOut: waitIn(out, "stdout"),
    write: (text) => {
      proc.stdin.write(text);
      proc.stdin.flush();
    },
    endInput: () => proc.stdin.end(),
    kill: (signal = "SIGTERM") => proc.kill(signal),
    [Symbol.asyncDispose]: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** Starts `chat serve --port 0 …` and waits for its listening line. */
export async function cliServer(args: string[], options: { binary?: boolean } = {}): Promise<Cli & { port: number }> {
  const cli = runCli(["serve", "--port", "0", ...args], options);
  const match = await cli.waitErr(/listening on \S+:(\d+) \(mode/);
  return Object.assign(cli, { port: Number(match[1]) });
}

/** Runs a command to completion with the given stdin; returns code, stdout and stderr. */
export async function runToEnd(
  args: string[],
  input: string | Uint8Array = "",
  options: { binary?: boolean; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; bytes: Uint8Array }> {
  const cmd = options.binary ? [BINARY, ...args] : [process.execPath, CLI, ...args];
  const proc = spawn({
    cmd,
    stdin: typeof input === "string" ? new TextEncoder().encode(input) : input,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", USER: "", ...options.env },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [bytes, stderr, code] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout: new TextDecoder().decode(bytes), stderr, bytes };
}
