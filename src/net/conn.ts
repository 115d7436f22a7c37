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
import { CLOSE_GRACE_MS } from "../defaults.ts";
import type { LeaveReason } from "../events.ts";
import { copyOf } from "../text/bytes.ts";
import { COALESCE_BYTES, OutQueue, WRITE_ALONE_BYTES } from "./out-queue.ts";

/** Who stopped reading from a connection; reading resumes when no one holds it ("rate": see Throttle). */
export type PauseReason = "flow" | "room" | "output" | "name" | "rate";

export interface ConnRef {
  conn: Conn | null;
}

export class Conn {
  /** Milliseconds since the epoch of the last queued byte written (or the queue emptied). */
  lastProgress = Date.now();
  /** Milliseconds since the epoch when reading last resumed after a pause (0: never paused). */
  resumedAt = 0;
  /** In this turn's list of connections to flush (see scheduleFlush). */
  flushScheduled = false;
  /** The turn (see `turn`) of this connection's last small write at once. */
  private wroteInTurn = -1;
  readonly closed: Promise<void>;

  private reason: LeaveReason | null = null;
  /** Replaced, never changed in place: a listener may remove itself while they are called. */
  private drainListeners: readonly (() => void)[] = [];
  private readonly out = new OutQueue();
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
    return this.out.size;
  }

  get isOpen(): boolean {
    return !this.gone && !this.ending;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /** Why the server closed this connection (given to `end` or `destroy`; "error": a reset), for the room's notice. */
  get leaveReason(): LeaveReason | null {
    return this.reason;
  }

  /** Calls `listener` each time a drain shrinks the queue (or empties it). */
  addDrainListener(listener: () => void): void {
    this.drainListeners = [...this.drainListeners, listener];
  }

  removeDrainListener(listener: () => void): void {
    this.drainListeners = this.drainListeners.filter((other) => other !== listener);
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
    if (this.out.size === 0 && !this.blocked && (big || this.wroteInTurn !== turn)) {
      // One small write at once per turn; the next small sends this turn are gathered.
      if (!big) {
        this.wroteInTurn = turn;
        endTurnSoon();
      }
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
    if (this.out.size >= COALESCE_BYTES) this.write();
    else scheduleFlush(this);
  }

  private enqueue(bytes: Uint8Array): void {
    // The wait for progress starts when bytes start waiting, not at the last drain long ago.
    if (this.out.size === 0) this.lastProgress = Date.now();
    this.out.push(bytes);
  }

  /** Called from the socket's `drain` handler: the kernel takes bytes again. */
  drain(): void {
    this.blocked = false;
    this.write();
  }

  /** End of a turn: writes what was gathered, unless the kernel is full (then `drain` will). */
  flush(): void {
    if (!this.blocked && this.out.size > 0) this.write();
  }

  private write(): void {
    const before = this.out.size;
    const outcome = this.out.writeTo(this.socket);
    if (outcome === "lost") {
      this.abandon();
      return;
    }
    if (outcome === "blocked") this.blocked = true;
    const wrote = this.out.size < before;
    if (wrote) this.lastProgress = Date.now();
    if (this.out.size === 0 && this.ending) this.finishWrites();
    if (wrote) for (const listener of this.drainListeners) listener();
  }

  /** Stops reading (TCP flow control) until every reason given is withdrawn. */
  pause(reason: PauseReason = "flow"): void {
    if (this.gone || this.holds.has(reason)) return;
    this.holds.add(reason);
    if (this.holds.size === 1) this.socket.pause();
  }

  resume(reason: PauseReason = "flow"): void {
    if (this.gone || !this.holds.delete(reason) || this.holds.size > 0) return;
    this.resumedAt = Date.now();
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
   * A `reason` given says why (it replaces one given before).
   */
  end(reason?: LeaveReason, graceMs = CLOSE_GRACE_MS): void {
    if (reason) this.reason = reason;
    if (this.gone || this.ending) return;
    this.ending = true;
    if (Number.isFinite(graceMs)) this.armDeadline(graceMs, Date.now());
    if (this.out.size === 0) this.finishWrites();
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
    this.out.clear();
    // terminate() runs the `close` handler at once: not inside whatever was sending.
    queueMicrotask(() => this.destroy());
  }

  /** Closes at once, dropping whatever is queued; a `reason` given says why (see `end`). */
  destroy(reason?: LeaveReason): void {
    if (reason) this.reason = reason;
    if (this.gone) return;
    this.ending = true;
    this.socket.terminate();
  }

  /** Called from the socket's `close` handler; closed by `error` with no reason given: the reason is "error". */
  markGone(error?: Error): void {
    if (error && !this.reason) this.reason = "error";
    if (this.gone) return;
    this.gone = true;
    this.out.clear();
    if (this.deadline) clearTimeout(this.deadline);
    this.resolveClosed();
  }
}

/**
 * The event-loop turn, counted: a connection's first small send in a turn
 * is written at once (its latency is one write), the rest are gathered.
 * Counting turns, not listing the connections written to, keeps a room
 * line's fan-out to one write per member and nothing to undo afterwards.
 */
let turn = 0;
let turnEnding = false;

/**
 * Connections with bytes gathered this turn, written out together once the
 * turn's events are handled. An array and a flag per connection, not a Set:
 * a burst of room lines schedules every member, and a Set costs several times more.
 */
let unflushed: Conn[] = [];

/** Ends this turn once its events are handled (once, however often it is asked). */
function endTurnSoon(): void {
  if (turnEnding) return;
  turnEnding = true;
  setImmediate(endTurn);
}

function scheduleFlush(conn: Conn): void {
  if (conn.flushScheduled) return;
  conn.flushScheduled = true;
  endTurnSoon();
  unflushed.push(conn);
}

function endTurn(): void {
  turn++;
  turnEnding = false;
  const conns = unflushed;
  if (conns.length === 0) return;
  unflushed = [];
  for (const conn of conns) {
    conn.flushScheduled = false;
    conn.flush();
  }
}
