/**
 * One TCP/TLS/unix connection with an outgoing queue. Bun's `socket.write()`
 * does not buffer (it returns how many bytes the kernel took), so whatever is
 * not taken is queued here and written again from `drain`, in order.
 *
 * A graceful close waits for the queue to empty, half-closes (`shutdown`, a
 * FIN; Bun's `end()` is a full close that can turn into RST and lose queued
 * bytes), waits for the peer to close, and terminates after a deadline.
 */
import type { Socket } from "bun";
import type { LeaveReason } from "../events.ts";

/** A queue this size or more is written as one coalesced buffer per syscall. */
const COALESCE_BYTES = 64 * 1024;
/** How long a graceful close waits for the peer before terminating. */
export const CLOSE_GRACE_MS = 3000;

export interface ConnRef {
  conn: Conn | null;
}

export class Conn {
  /** Mode-specific state, set by whoever owns the connection. */
  state: unknown = null;
  /** Called after the queue empties or shrinks through a drain. */
  onDrain: (() => void) | null = null;
  /** Milliseconds since the epoch of the last byte received. */
  lastRead = Date.now();
  /** Milliseconds since the epoch of the last queued byte written (or the queue emptied). */
  lastProgress = Date.now();
  /** Why the server is closing this connection, for the room's notice. */
  leaveReason: LeaveReason | null = null;
  readonly closed: Promise<void>;

  private queue: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private writeShut = false;
  private ending = false;
  private peerEnded = false;
  private gone = false;
  private paused = false;
  private deadline: Timer | null = null;
  private resolveClosed!: () => void;

  constructor(
    readonly socket: Socket<ConnRef>,
    readonly peer: string,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get queued(): number {
    return this.queuedBytes;
  }

  get isOpen(): boolean {
    return !this.gone && !this.ending;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /**
   * Sends bytes, queueing what the kernel does not take. `borrowed` bytes
   * belong to someone else (a read buffer): the unsent part is copied.
   */
  send(bytes: Uint8Array, borrowed = false): void {
    if (this.gone || this.writeShut || bytes.length === 0) return;
    if (this.queuedBytes === 0) {
      const written = this.socket.write(bytes);
      if (written < 0) return;
      if (written === bytes.length) return;
      const rest = bytes.subarray(written);
      this.enqueue(borrowed ? rest.slice() : rest);
      return;
    }
    this.enqueue(borrowed ? bytes.slice() : bytes);
  }

  private enqueue(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
  }

  /** Called from the socket's `drain` handler. */
  drain(): void {
    const before = this.queuedBytes;
    while (this.head < this.queue.length) {
      const chunk = this.nextChunk();
      const written = this.socket.write(chunk);
      if (written <= 0) break;
      this.queuedBytes -= written;
      if (written < chunk.length) {
        this.queue[this.head] = chunk.subarray(written);
        break;
      }
      this.queue[this.head++] = EMPTY;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queuedBytes < before) this.lastProgress = Date.now();
    if (this.queuedBytes === 0 && this.ending) this.finishWrites();
    if (this.queuedBytes < before) this.onDrain?.();
  }

  /** The head chunk, or several small ones joined into one buffer. */
  private nextChunk(): Uint8Array {
    const first = this.queue[this.head] ?? EMPTY;
    if (first.length >= COALESCE_BYTES || this.head + 1 >= this.queue.length) return first;
    let size = 0;
    let end = this.head;
    while (end < this.queue.length && size < COALESCE_BYTES) size += (this.queue[end++] ?? EMPTY).length;
    const joined = new Uint8Array(size);
    let at = 0;
    for (let i = this.head; i < end; i++) {
      const part = this.queue[i] ?? EMPTY;
      joined.set(part, at);
      at += part.length;
      this.queue[i] = EMPTY;
    }
    this.head = end - 1;
    this.queue[this.head] = joined;
    return joined;
  }

  pause(): void {
    if (this.paused || this.gone) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused || this.gone) return;
    this.paused = false;
    this.socket.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The peer sent FIN. */
  peerEnd(): void {
    this.peerEnded = true;
    if (this.writeShut) this.socket.end();
  }

  /**
   * Graceful close: flush the queue, half-close, wait for the peer to close,
   * and terminate after `graceMs` (Infinity: wait as long as the peer talks).
   */
  end(graceMs = CLOSE_GRACE_MS): void {
    if (this.gone || this.ending) return;
    this.ending = true;
    if (Number.isFinite(graceMs)) this.deadline = setTimeout(() => this.destroy(), graceMs);
    if (this.queuedBytes === 0) this.finishWrites();
  }

  private finishWrites(): void {
    if (this.writeShut) return;
    this.writeShut = true;
    if (this.peerEnded) this.socket.end();
    else this.socket.shutdown();
  }

  /** Closes at once, dropping whatever is queued. */
  destroy(): void {
    if (this.gone) return;
    this.ending = true;
    this.socket.terminate();
  }

  /** Called from the socket's `close` handler. */
  markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.deadline) clearTimeout(this.deadline);
    this.resolveClosed();
  }
}

const EMPTY = new Uint8Array(0);
