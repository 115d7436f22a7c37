/**
 * Process handling for scripts/bench.ts: servers started in the background
 * and stopped by their PID, the C load generator run to completion, CPU
 * pinning, memory and machine-load readings from /proc. Every wait is bounded.
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

/** 10,000 connections need that many descriptors, on both sides, plus a few. */
const OPEN_FILES = 20_000;
const LISTEN_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const LISTEN_POLL_MS = 20;

/** Server on CPU 0 and load on CPU 1, as the kit in ../shared/bench does, when there are two CPUs and taskset. */
const PIN = cpus().length >= 2 && Bun.which("taskset") !== null;

/** `cmd` on one CPU (when pinning is possible), with a raised open-files limit; `exec` keeps the PID. */
export function wrapped(cmd: string[], cpu: number): string[] {
  const pin = PIN ? ["taskset", "-c", String(cpu)] : [];
  return ["sh", "-c", `ulimit -n ${OPEN_FILES} 2>/dev/null; exec "$@"`, "sh", ...pin, ...cmd];
}

export const pinned = PIN;

export interface Server {
  readonly pid: number;
  readonly port: number;
  /** Milliseconds from spawn to the listening line. */
  readonly startMs: number;
  /** Resident and peak resident memory, MiB. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

/** Reads lines from a stream until one matches, or the deadline passes. */
async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const timer = Bun.sleep(deadline - Date.now()).then(() => null);
      const next = await Promise.race([reader.read(), timer]);
      if (!next || next.done) break;
      text += decoder.decode(next.value, { stream: true });
      const match = text.match(pattern);
      if (match) return match;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; got: ${text.slice(0, 300)}`);
}

/** Keeps reading a pipe so the child never blocks on a full one. */
function drainPipe(stream: ReadableStream<Uint8Array>): void {
  void (async () => {
    for await (const _ of stream) {
      // discarded
    }
  })().catch(() => {});
}

/** Is something listening on 127.0.0.1:`port` (or 0.0.0.0)? Read from /proc/net/tcp, so no connection is made. */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const table = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1);
  return table.some((row) => {
    const [, local, , state] = row.trim().split(/\s+/);
    return state === "0A" && (local === `0100007F:${hex}` || local === `00000000:${hex}`);
  });
}

/** Waits until a server that announces nothing listens on `port`; throws if it exits or the deadline passes. */
async function waitListening(port: number, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!listening(port)) {
    if (exited()) throw new Error(`the server exited before listening on port ${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port} within ${timeoutMs} ms`);
    await Bun.sleep(LISTEN_POLL_MS);
  }
}

export interface ServerSpec {
  cmd: string[];
  /**
   * Where the listening line appears, and how `pattern` names the port (first
   * group); "none": the server says nothing and listens on `port`.
   */
  announce: "stdout" | "stderr" | "none";
  pattern?: RegExp;
  port?: number;
  /** Where the server's stdout goes when it is not the announcing stream: /dev/null (the default) or a file. */
  stdoutFile?: string;
  /** Where its stderr goes when it is not the announcing stream (socat -v prints the traffic there); default a pipe, drained. */
  stderrFile?: string;
}

export async function startServer(spec: ServerSpec, wrap = true): Promise<Server> {
  const cmd = wrap ? wrapped(spec.cmd, 0) : spec.cmd;
  const started = performance.now();
  const proc = Bun.spawn({
    cmd,
    stdin: "ignore",
    stdout: spec.announce === "stdout" ? "pipe" : Bun.file(spec.stdoutFile ?? "/dev/null"),
    stderr: spec.announce !== "stderr" && spec.stderrFile ? Bun.file(spec.stderrFile) : "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let port: number;
  try {
    port = await announced(spec, proc);
  } catch (error) {
    proc.kill("SIGKILL");
    throw error;
  }
  const startMs = performance.now() - started;
  for (const stream of [proc.stdout, proc.stderr]) if (stream instanceof ReadableStream) drainPipe(stream);
  return {
    pid: proc.pid,
    port,
    startMs,
    memory: () => memoryOf(proc.pid),
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** The port a starting server listens on: from its listening line, or `spec.port` once it listens there. */
async function announced(spec: ServerSpec, proc: Bun.Subprocess): Promise<number> {
  if (spec.announce === "none") {
    if (spec.port === undefined) throw new Error(`${spec.cmd[0]}: a server that announces nothing needs its port`);
    await waitListening(spec.port, () => proc.exitCode !== null || proc.signalCode !== null, LISTEN_TIMEOUT_MS);
    return spec.port;
  }
  const announcing = spec.announce === "stdout" ? proc.stdout : proc.stderr;
  if (!(announcing instanceof ReadableStream) || !spec.pattern) throw new Error("no pipe to read the listening line from");
  return Number((await waitForLine(announcing, spec.pattern, LISTEN_TIMEOUT_MS))[1]);
}

/** VmRSS and VmHWM of a process, MiB (0 when /proc has no such process). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return { rss: 0, peak: 0 };
  const status = readFileSync(path, "utf8");
  const kib = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+) kB`))?.[1] ?? 0);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

export type Fields = Record<string, string>;

/** `key=value key=value` → an object. */
export function parseFields(line: string): Fields {
  const fields: Fields = {};
  for (const pair of line.trim().split(/\s+/)) {
    const at = pair.indexOf("=");
    if (at > 0) fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}

/**
 * Runs the load generator to completion (killed after `timeoutMs`); `onLine`
 * sees each line as it comes (the idle case measures memory on `ready`).
 * Returns the last line's fields.
 */
export async function runLoad(cmd: string[], timeoutMs: number, onLine?: (line: string) => void): Promise<Fields> {
  const proc = Bun.spawn({ cmd: wrapped(cmd, 1), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  let last = "";
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      last = pending.slice(0, nl);
      onLine?.(last);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
    }
  }
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator exited ${code}: ${(await new Response(proc.stderr).text()).trim()}`);
  return parseFields(last);
}

/** Busy and total CPU time of the whole machine so far (USER_HZ ticks), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const [, ...values] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return { busy: total - idle, total };
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
