/**
 * The conversation to stdout through one batched writer: one write per few
 * milliseconds rather than one per line. For a file or /dev/null the batches
 * go to the descriptor and Bun's `process.stdout` stream is never made (it
 * costs start-up time and about 3 MiB).
 */
import { fstatSync, writeSync } from "node:fs";
import { STDOUT_FD } from "./dev-null.ts";
import { logger } from "./output.ts";
import { copyBytes } from "./text/bytes.ts";
import { copyPlainLines, type LinePrefix, plainTarget } from "./text/plain-lines.ts";
import { SANITIZE_GROWTH, sanitizeInto } from "./text/sanitize.ts";
import { isatty } from "./tty/isatty.ts";

/** Flush pending text once this much has accumulated, without waiting for the next turn. */
const STDOUT_BATCH_BYTES = 64 * 1024;

/**
 * Queued text waits at most this long (when stdout is not a terminal). A
 * write per event-loop turn would be one syscall per few lines when many
 * clients each send a little (100 echo clients: tens of thousands a second).
 */
const STDOUT_DELAY_MS = 5;
/** The batch starts this big; it grows only for a line longer than that (a large --max-line). */
const BATCH_CAPACITY = 2 * STDOUT_BATCH_BYTES;
const LF = 10;

/** A regular file or a character device that is not a terminal (/dev/null). */
function isFileLike(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFile() || (stat.isCharacterDevice() && !isatty(fd));
  } catch {
    return false;
  }
}

/**
 * Batched stdout. Lines written within STDOUT_DELAY_MS leave in one write;
 * a line is never split between writes, so lines from different clients never
 * interleave. A closed pipe (`| head -1`) is reported once through `onClosed`.
 * The batch is bytes: received lines are sanitised straight into it
 * (`line`), with no string made for them; text is encoded into it.
 */
export class StdoutWriter {
  onClosed: (() => void) | null = null;
  /**
   * Called with true when the stream stops taking text (a full pipe; Bun then
   * buffers in memory without limit) and with false once it drains, so the
   * producer can stop reading its sources meanwhile.
   */
  onPressure: ((full: boolean) => void) | null = null;
  private batch = new Uint8Array(BATCH_CAPACITY);
  /** The same memory, for Buffer's native string encoding. */
  private batchBuffer = Buffer.from(this.batch.buffer);
  /** The same memory, for `copyPlainLines`. */
  private batchTarget = plainTarget(this.batch);
  private used = 0;
  private scheduled = false;
  private broken = false;
  private full = false;
  /**
   * The stream's descriptor when it is a regular file or /dev/null: batches
   * are written to it directly and synchronously (nothing can fill up, and
   * the stream would copy every batch it is given); otherwise -1.
   */
  private readonly fd: number;
  /** The stream written to when not a file or /dev/null (null: never made, see the top). */
  private readonly stream: NodeJS.WriteStream | null;
  /** A terminal: each line is written at once. */
  private readonly immediate: boolean;

  /** Writes to `stream`; by default to stdout, as a stream only when it is not a file or /dev/null. */
  constructor(stream?: NodeJS.WriteStream) {
    if (stream === undefined && isFileLike(STDOUT_FD)) {
      this.stream = null;
      this.immediate = false;
      this.fd = STDOUT_FD;
      return;
    }
    const out = stream ?? process.stdout;
    this.stream = out;
    this.immediate = out.isTTY === true;
    out.on("error", (error: NodeJS.ErrnoException) => this.fail(error));
    // Node's and Bun's stdio streams carry their descriptor; the type does not say so.
    const fd = (out as { fd?: unknown }).fd;
    this.fd = !this.immediate && typeof fd === "number" && isFileLike(fd) ? fd : -1;
  }

  get isClosed(): boolean {
    return this.broken;
  }

  /** Queues text (which should end in a newline). */
  text(text: string): void {
    if (this.broken) return;
    if (this.immediate) {
      this.write(text);
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    this.used += this.batchBuffer.write(text, this.used, "utf8");
    this.queued();
  }

  /**
   * Queues `PREFIX` + the sanitised text of a received line, raw bytes
   * `bytes[start, end)` (see `sanitizeInto`), + a newline: what
   * `text(prefix + decodeLine(line) + "\n")` would print, without building a string.
   */
  line(prefix: Uint8Array, bytes: Uint8Array, start: number, end: number): void {
    if (this.broken) return;
    this.reserve(prefix.length + (end - start) * SANITIZE_GROWTH + 1);
    this.batch.set(prefix, this.used);
    const last = sanitizeInto(bytes, start, end, this.batch, this.used + prefix.length);
    this.batch[last] = LF;
    this.used = last + 1;
    if (this.immediate) this.flush();
    else this.queued();
  }

  /**
   * Queues the plain lines at the start of `bytes[start, end)` as `line`
   * would, all at once (see `copyPlainLines`), in the room the batch has;
   * returns where it stopped.
   */
  plainLines(prefix: LinePrefix, bytes: Uint8Array, start: number, end: number, maxLine: number): number {
    if (this.broken) return start;
    const target = this.batchTarget;
    copyPlainLines(bytes, start, end, maxLine, prefix, target, this.used);
    if (target.wrote === this.used) return start;
    this.used = target.wrote;
    if (this.immediate) this.flush();
    else this.queued();
    return target.read;
  }

  /** Queues bytes that are already whole, safe lines (a room's relayed line), copied as they are. */
  raw(bytes: Uint8Array, start: number, end: number): void {
    if (this.broken) return;
    this.reserve(end - start);
    this.used = copyBytes(bytes, start, end, this.batch, this.used);
    if (this.immediate) this.flush();
    else this.queued();
  }

  /** Makes room for `bytes` more, flushing first when the batch would overflow. */
  private reserve(bytes: number): void {
    if (this.used + bytes <= this.batch.length) return;
    this.flush();
    if (bytes > this.batch.length) {
      this.batch = new Uint8Array(bytes);
      this.batchBuffer = Buffer.from(this.batch.buffer);
      this.batchTarget = plainTarget(this.batch);
    }
  }

  private queued(): void {
    if (this.used >= STDOUT_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), STDOUT_DELAY_MS);
    }
  }

  /** Writes bytes as they are, after any queued text. Returns false when the stream is full. */
  bytes(bytes: Uint8Array): boolean {
    if (this.broken) return true;
    this.flush();
    if (this.fd >= 0 || !this.stream) {
      this.writeDirect(bytes);
      return true;
    }
    return this.stream.write(bytes);
  }

  flush(): void {
    this.scheduled = false;
    if (this.used === 0 || this.broken) return;
    if (this.fd >= 0 || !this.stream) {
      const used = this.used;
      this.used = 0;
      this.writeDirect(this.batch.subarray(0, used));
      return;
    }
    // A copy: a stream that cannot take it all at once keeps what it is given.
    const bytes = this.batch.slice(0, this.used);
    this.used = 0;
    this.write(bytes);
  }

  private writeDirect(bytes: Uint8Array): void {
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (error) {
      this.fail(error as NodeJS.ErrnoException);
    }
  }

  private write(text: string | Uint8Array): void {
    const stream = this.stream;
    if (!stream) {
      this.writeDirect(typeof text === "string" ? Buffer.from(text) : text);
      return;
    }
    // Bun's stdout reports neither writableLength nor writableNeedDrain for a
    // pipe, but write() returns false when it is full and `drain` follows.
    if (stream.write(text) || this.full) return;
    this.full = true;
    this.onPressure?.(true);
    stream.once("drain", () => {
      this.full = false;
      this.onPressure?.(false);
    });
  }

  /**
   * Resolves true once everything written so far has been handed to the OS
   * (or can never be: the pipe is closed), false when `timeoutMs` passed first.
   */
  async drained(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.flush();
    const stream = this.stream;
    // Bun keeps what a full pipe did not take and drops it at exit: wait for `drain` (see write).
    if (this.broken || !stream || (!this.full && !stream.writableNeedDrain)) return true;
    return new Promise<boolean>((resolve) => {
      stream.once("drain", () => resolve(true));
      stream.once("error", () => resolve(true));
      if (Number.isFinite(timeoutMs)) setTimeout(() => resolve(false), timeoutMs).unref();
    });
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (this.broken) return;
    this.broken = true;
    this.used = 0;
    if (error.code !== "EPIPE") logger.warn(`cannot write to stdout: ${error.message}`);
    this.onClosed?.();
    // No `drain` will come: whoever waits for one must not wait forever (nothing is written now).
    if (this.full) {
      this.full = false;
      this.onPressure?.(false);
    }
  }
}
