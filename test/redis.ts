/**
 * A real redis-server for the cluster tests: on a free loopback port, with
 * no persistence (so a restart comes back empty), stopped by its PID.
 */
import { type Subprocess, spawn } from "bun";
import { until } from "./helpers.ts";

/** A port nothing listens on now (the kernel's pick for a socket just closed). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export class TestRedis implements AsyncDisposable {
  private proc: Subprocess | null = null;

  private constructor(
    readonly port: number,
    private readonly extra: string[],
  ) {}

  static async start(extra: string[] = []): Promise<TestRedis> {
    const redis = new TestRedis(freePort(), extra);
    await redis.run();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Starts redis-server on this port (again, after a kill: it comes back empty). */
  async run(): Promise<void> {
    this.proc = spawn({
      cmd: ["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.extra],
      stdout: "ignore",
      stderr: "ignore",
    });
    await until(() => this.answers(), `redis-server on port ${this.port}`, 10_000);
  }

  /** A command through redis-cli (for checks a test makes of what Redis holds). */
  cli(...args: string[]): string {
    const auth = this.extra.includes("--requirepass")
      ? ["-a", this.extra[this.extra.indexOf("--requirepass") + 1] ?? "", "--no-auth-warning"]
      : [];
    const result = Bun.spawnSync({ cmd: ["redis-cli", "-p", String(this.port), ...auth, ...args] });
    return result.stdout.toString().trim();
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.kill(signal);
    await proc.exited;
    this.proc = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  private answers(): boolean {
    const result = Bun.spawnSync({ cmd: ["redis-cli", "-p", String(this.port), "PING"] });
    return /PONG|NOAUTH/.test(result.stdout.toString());
  }
}
