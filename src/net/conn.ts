/**
 * One TCP/TLS/unix connection with an outgoing queue. Bun's `socket.write()`
 * does not buffer (it returns how many bytes the kernel took), so whatever is
 * not taken is queued here and written again from `drain`, in order. Small
 * sends are gathered into one write per event-loop turn.
 *
 * A graceful close waits for the queue to empty, half-closes (`shutdown`, a
 * FIN; Bun's `end()` is a full close that can turn into RST and lose queued
 * bytes), waits for the peer to close, and terminates after a deadline.
 */
import type { Socket } from "bun";
import type { LeaveReason } from "../events.ts";
import { copyOf } from "../text/bytes.ts";

/** A queue this size or more is written as one coalesced buffer per syscall. */
const COALESCE_BYTES = 64 * 1024;
/**
 * A queued chunk this big is written by itself, not joined with the next:
 * copying it would cost more than the syscall saved (a room batch of lines
 * goes to every member; 100 members = 100 copies).
 */
const WRITE_ALONE_BYTES = 16 * 1024;
/** How long a graceful close waits while the peer takes nothing before terminating. */
export const CLOSE_GRACE_MS = 3000;

/** Who stopped reading from a connection; reading resumes when no one holds it. */
export type PauseReason = "flow" | "room" | "output";

export interface ConnRef {
  conn: Conn | null;
}

export class Conn {
  /** Called after the queue empties or shrinks through a drain. */
  onDrain: (() => void) | null = null;
  /**
   * Milliseconds since the epoch when input was last noticed: the server's
   * tick sets it for connections `heard` from since the tick before, so a
   * read costs no clock (idle time-outs are checked once a tick anyway).
   */
  lastRead = Date.now();
  /** Bytes came in since the last tick (see lastRead). */
  heard = false;
  /** Milliseconds since the epoch of the last queued byte written (or the queue emptied). */
  lastProgress = Date.now();
  /** In this turn's list of connections to flush (see scheduleFlush). */
  flushScheduled = false;
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
  private readonly holds = new Set<PauseReason>();
  /** The kernel refused bytes: nothing more is written until the socket's `drain`. */
  private blocked = false;
  /** A write found the socket closed: sends are dropped from now on. */
  private lost = false;
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
   * Sends bytes. When nothing waits before them they go straight to the
   * kernel if they are big (an echo, a room batch of many lines) or the first
   * this turn (a room line: its latency is one write). Other small sends are
   * gathered and written at the end of the event-loop turn: a turn can bring
   * lines from many clients, each fanned out to every member, and that is at
   * most two writes per member per turn, not one per line. COALESCE_BYTES or
   * more queued are written at once, so bytes not yet offered to the kernel
   * stay under that. `borrowed` bytes belong to someone else (a read buffer):
   * what is kept is a copy.
   */
  send(bytes: Uint8Array, borrowed = false): void {
    if (this.gone || this.lost || this.writeShut || bytes.length === 0) return;
    const big = borrowed || bytes.length >= WRITE_ALONE_BYTES;
    // A connection in this turn's flush list has had its one small write at once.
    if (this.queuedBytes === 0 && !this.blocked && (big || !this.flushScheduled)) {
      if (!big) scheduleFlush(this);
      // Copying only what the kernel refuses.
      const written = this.socket.write(bytes);
      if (written < 0) this.abandon();
      if (written < 0 || written === bytes.length) return;
      this.blocked = true;
      this.enqueue(borrowed ? copyOf(bytes, written) : bytes.subarray(written));
      return;
    }
    this.enqueue(borrowed ? copyOf(bytes) : bytes);
    if (this.blocked) return;
    if (this.queuedBytes >= COALESCE_BYTES) this.write();
    else scheduleFlush(this);
  }

  private enqueue(bytes: Uint8Array): void {
    // The wait for progress starts when bytes start waiting, not at the last drain long ago.
    if (this.queuedBytes === 0) this.lastProgress = Date.now();
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
  }

  /** Called from the socket's `drain` handler: the kernel takes bytes again. */
  drain(): void {
    this.blocked = false;
    this.write();
  }

  /** End of a turn: writes what was gathered, unless the kernel is full (then `drain` will). */
  flush(): void {
    if (!this.blocked && this.queuedBytes > 0) this.write();
  }

  private write(): void {
    const before = this.queuedBytes;
    while (this.head < this.queue.length) {
      const parts = this.gather();
      const chunk = parts === 1 ? (this.queue[this.head] ?? EMPTY) : gathered;
      const written = this.socket.write(chunk);
      if (written < 0) {
        this.abandon();
        return;
      }
      if (written < chunk.length) this.blocked = true;
      if (written === 0) break;
      this.queuedBytes -= written;
      if (written < chunk.length) {
        this.keepUnwritten(parts, chunk, written);
        break;
      }
      for (let i = 0; i < parts; i++) this.queue[this.head++] = EMPTY;
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

  /**
   * How many queued chunks to write at once: the head alone, or several small
   * ones copied into `gathered` (shared by every connection: `socket.write`
   * copies before it returns, so a buffer per write would only be garbage; a
   * room of 2,000 sends each member thousands of small notices).
   */
  private gather(): number {
    const first = this.queue[this.head] ?? EMPTY;
    if (first.length >= WRITE_ALONE_BYTES || this.head + 1 >= this.queue.length) return 1;
    let size = 0;
    let end = this.head;
    while (end < this.queue.length && size + (this.queue[end] ?? EMPTY).length <= COALESCE_BYTES) {
      size += (this.queue[end++] ?? EMPTY).length;
    }
    if (end - this.head < 2) return 1;
    gathered = gatherBuffer.subarray(0, size);
    let at = 0;
    for (let i = this.head; i < end; i++) {
      const part = this.queue[i] ?? EMPTY;
      gatherBuffer.set(part, at);
      at += part.length;
    }
    return end - this.head;
  }

  /** A partial write of `parts` chunks: what is left becomes the head, as one chunk of its own. */
  private keepUnwritten(parts: number, chunk: Uint8Array, written: number): void {
    const rest = parts === 1 ? chunk.subarray(written) : chunk.slice(written);
    for (let i = 1; i < parts; i++) this.queue[this.head++] = EMPTY;
    this.queue[this.head] = rest;
  }

  /** Stops reading (TCP flow control) until every reason given is withdrawn. */
  pause(reason: PauseReason = "flow"): void {
    if (this.gone || this.holds.has(reason)) return;
    this.holds.add(reason);
    if (this.holds.size === 1) this.socket.pause();
  }

  resume(reason: PauseReason = "flow"): void {
    if (this.gone || !this.holds.delete(reason) || this.holds.size > 0) return;
    this.restart();
  }

  private restart(): void {
    // A paused client could not be heard: its idle clock restarts now.
    this.lastRead = Date.now();
    this.socket.resume();
  }

  get isPaused(): boolean {
    return this.holds.size > 0;
  }

  pausedFor(reason: PauseReason): boolean {
    return this.holds.has(reason);
  }

  /** The peer sent FIN. */
  peerEnd(): void {
    this.peerEnded = true;
    if (this.writeShut) this.socket.end();
  }

  /**
   * Graceful close: flush the queue, half-close, wait for the peer to close,
   * and terminate once the peer has taken nothing for `graceMs` (Infinity:
   * wait as long as the peer talks). A peer still reading a long queue keeps
   * its connection; one that stopped reading is cut after `graceMs`.
   */
  end(graceMs = CLOSE_GRACE_MS): void {
    if (this.gone || this.ending) return;
    this.ending = true;
    if (Number.isFinite(graceMs)) this.armDeadline(graceMs, Date.now());
    if (this.queuedBytes === 0) this.finishWrites();
  }

  /** Terminates once the peer has taken nothing for `graceMs`, counting from `since` at the earliest. */
  private armDeadline(graceMs: number, since: number): void {
    const wait = Math.max(this.lastProgress, since) + graceMs - Date.now();
    if (wait <= 0) {
      this.destroy();
      return;
    }
    this.deadline = setTimeout(() => this.armDeadline(graceMs, since), wait);
  }

  private finishWrites(): void {
    if (this.writeShut) return;
    this.writeShut = true;
    if (this.peerEnded) this.socket.end();
    else this.socket.shutdown();
  }

  /**
   * The socket is closed under us (a reset the `close` handler has not been
   * told of yet): nothing queued can ever leave, so let it go now rather
   * than keep queueing (a room keeps sending notices to every member).
   */
  private abandon(): void {
    this.lost = true;
    this.ending = true;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    // terminate() runs the `close` handler at once: not inside whatever was sending.
    queueMicrotask(() => this.destroy());
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
/** Where `gather` joins small chunks; `gathered` is the part in use. */
const gatherBuffer = new Uint8Array(COALESCE_BYTES);
let gathered = EMPTY;

/**
 * Connections with bytes sent this turn, written out together once the
 * turn's events are handled. An array and a flag per connection, not a Set:
 * a room line schedules every member, and a Set costs several times more.
 */
let unflushed: Conn[] = [];

function scheduleFlush(conn: Conn): void {
  if (conn.flushScheduled) return;
  conn.flushScheduled = true;
  if (unflushed.length === 0) setImmediate(flushAll);
  unflushed.push(conn);
}

function flushAll(): void {
  const conns = unflushed;
  unflushed = [];
  for (const conn of conns) {
    conn.flushScheduled = false;
    conn.flush();
  }
}
