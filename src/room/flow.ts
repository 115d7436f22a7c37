/**
 * How a room waits for receivers that fall behind.
 *
 * When a receiver has more than ROOM_HIGH_WATER bytes waiting, the room stops
 * reading from every client (TCP back-pressure on senders), and stops
 * relaying the rest of a read already taken (see LineInput), until it drains
 * below ROOM_LOW_WATER. So a fast sender is slowed, not cut, and every reader
 * gets every line.
 *
 * A receiver that takes nothing for STALL_MS while holding the room up is
 * stalled: the room stops waiting for it and goes on. Its queue keeps growing
 * (it loses nothing if it reads again in time: it then holds the room again),
 * and when the queue passes `maxQueue` it is dropped as too slow. So one
 * stalled reader delays the others once, by STALL_MS plus at most one tick.
 */
import { QUEUE_HIGH_WATER, QUEUE_LOW_WATER } from "../defaults.ts";
import type { Member } from "./members.ts";

/** A receiver with more than this waiting holds the room up, until it is down to the low-water mark. */
export const ROOM_HIGH_WATER = QUEUE_HIGH_WATER;
const ROOM_LOW_WATER = QUEUE_LOW_WATER;
/**
 * How long a congested receiver may take nothing before the room stops waiting
 * for it: long enough for a reader that is merely slower than the sender (the
 * kernel takes more each time a third of its send buffer frees up, every few
 * milliseconds on loopback or a LAN), short enough that a stalled one holds
 * the room up only for a moment.
 */
export const STALL_MS = 500;

export class RoomFlow {
  /** Receivers over the high-water mark that the room waits for. */
  private readonly congested = new Set<Member>();
  /** Receivers over the high-water mark that stopped reading: the room does not wait. */
  private readonly stalled = new Set<Member>();
  /** The room has stopped reading from its clients. */
  paused = false;
  private releasing = false;
  /** The hub's backend holds the room up (see hold). */
  private held = false;

  constructor(
    private readonly members: Iterable<Member>,
    private readonly maxQueue: number,
    /** Sends the room's gathered lines (see Fanout.flush). */
    private readonly flush: () => void,
  ) {}

  /** Receivers hold the room up (the hub's backend does not count). */
  get behind(): boolean {
    return this.congested.size > 0;
  }

  /** After queueing for `p`: drop it past `maxQueue`, or make the room wait for it. */
  watch(p: Member): void {
    const conn = p.conn;
    if (!conn || conn.queued <= ROOM_HIGH_WATER) return;
    if (conn.queued > this.maxQueue) {
      this.drop(p);
      return;
    }
    if (!this.stalled.has(p)) this.congest(p);
  }

  /** `p`'s queue shrank: a stalled receiver reads again, a congested one may be done. */
  drained(p: Member): void {
    const queued = p.conn?.queued ?? 0;
    if (this.stalled.delete(p)) {
      if (queued > ROOM_HIGH_WATER) this.congest(p);
    } else if (this.congested.has(p) && queued <= ROOM_LOW_WATER) this.uncongest(p);
  }

  /** Congested receivers that took nothing for STALL_MS are stalled: the room stops waiting for them. */
  tick(now: number): void {
    for (const p of this.congested) {
      if (p.conn && now - p.conn.lastProgress > STALL_MS) {
        this.uncongest(p);
        this.stalled.add(p);
      }
    }
  }

  /** `p` is gone. */
  forget(p: Member): void {
    this.uncongest(p);
    this.stalled.delete(p);
  }

  /**
   * The hub cannot write what the room says as fast as it is said (a shared
   * hub's backend is slow or gone): reading stops as for a congested
   * receiver, and goes on once the hub says so and no receiver holds it up.
   */
  hold(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    if (held && !this.paused) {
      this.paused = true;
      for (const m of this.members) m.conn?.pause("room");
    } else if (!held && this.paused && this.congested.size === 0) {
      this.paused = false;
      this.release();
    }
  }

  private congest(p: Member): void {
    if (this.congested.has(p)) return;
    this.congested.add(p);
    if (!this.paused) {
      this.paused = true;
      for (const m of this.members) m.conn?.pause("room");
    }
  }

  private uncongest(p: Member): void {
    if (!this.congested.delete(p) || this.congested.size > 0 || !this.paused || this.held) return;
    this.paused = false;
    this.release();
  }

  /**
   * The room flows again: each member's lines held back mid-read go out
   * first, then its socket is read again; a line that congests the room again
   * stops this, and the members not reached stay paused until next time.
   * A member whose lines stop for its own rate limit is paused for that too
   * (see Throttle), and released by it: the room's hold on it ends here.
   */
  private release(): void {
    if (this.releasing) return;
    this.releasing = true;
    for (const m of this.members) {
      if (this.paused) break;
      m.input?.release();
      // Sending what it released may congest the room again (watch runs per batch).
      this.flush();
      if (!this.paused) m.conn?.resume("room");
    }
    this.releasing = false;
  }

  private drop(p: Member): void {
    if (!p.conn || p.conn.isGone) return;
    this.forget(p);
    p.conn.destroy("too slow");
  }
}
