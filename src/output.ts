/**
 * The two output channels. Status and diagnostics go to stderr through one
 * consola instance; the conversation goes to stdout through one batched
 * writer (one write per event-loop turn rather than one per line).
 */
import { createConsola, type LogObject } from "consola/core";

export function colorEnabled(stream: { isTTY?: boolean }): boolean {
  const env = process.env;
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

const paint = (code: number) => (text: string) => `\x1b[${code}m${text}\x1b[39m`;
export const colors = {
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  blue: paint(34),
  magenta: paint(35),
  cyan: paint(36),
  gray: paint(90),
};

let verbose = false;

function describe(arg: unknown): string {
  if (arg instanceof Error) return verbose && arg.stack ? arg.stack : arg.message;
  return String(arg);
}

function report(entry: LogObject): void {
  const text = entry.args.map(describe).join(" ");
  const color = colorEnabled(process.stderr);
  let prefix = "";
  if (entry.type === "error" || entry.type === "fatal") prefix = color ? colors.red("error: ") : "error: ";
  else if (entry.type === "warn") prefix = color ? colors.yellow("warning: ") : "warning: ";
  process.stderr.write(`${prefix}${text}\n`);
}

/** Levels: 1 = warnings and errors only (--quiet), 3 = status (default), 4 = debug (--verbose). */
export const logger = createConsola({ level: 3, reporters: [{ log: report }] });

/** A status line printed even with --quiet: the listening address, which scripts need with --port 0. */
export function essential(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function configureLogger(options: { quiet?: boolean; verbose?: boolean }): void {
  verbose = options.verbose === true;
  logger.level = options.quiet ? 1 : verbose ? 4 : 3;
}

/** Flush pending text once this much has accumulated, without waiting for the next turn. */
const STDOUT_BATCH_BYTES = 64 * 1024;

/**
 * Batched stdout. Lines written in one event-loop turn leave in one write;
 * a line is never split between writes, so lines from different clients never
 * interleave. A closed pipe (`| head -1`) is reported once through `onClosed`.
 */
export class StdoutWriter {
  onClosed: (() => void) | null = null;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private broken = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly immediate = stream.isTTY === true,
  ) {
    stream.on("error", (error: NodeJS.ErrnoException) => this.fail(error));
  }

  get isClosed(): boolean {
    return this.broken;
  }

  /** Queues text (which should end in a newline). */
  text(text: string): void {
    if (this.broken) return;
    if (this.immediate) {
      this.stream.write(text);
      return;
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= STDOUT_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes bytes as they are, after any queued text. Returns false when the stream is full. */
  bytes(bytes: Uint8Array): boolean {
    if (this.broken) return true;
    this.flush();
    return this.stream.write(bytes);
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.broken) return;
    const text = this.pending.length === 1 ? (this.pending[0] ?? "") : this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.write(text);
  }

  /** Resolves once everything written so far has been handed to the OS. */
  async drained(): Promise<void> {
    this.flush();
    if (this.broken || !this.stream.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      this.stream.once("drain", resolve);
      this.stream.once("error", () => resolve());
    });
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (this.broken) return;
    this.broken = true;
    this.pending = [];
    if (error.code !== "EPIPE") logger.warn(`cannot write to stdout: ${error.message}`);
    this.onClosed?.();
  }
}
