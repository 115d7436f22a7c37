/**
 * Idle time-outs, kept by the server: a read that completes a line (holds a
 * newline) only marks its connection heard (no clock); the server's tick
 * turns that into a time. So a client is timed out at most a tick or two
 * late, never early, and bytes dribbled with no line end do not keep it.
 */
import { TICK_MS } from "../defaults.ts";
import type { Conn } from "../net/conn.ts";

/** A short idle timeout is checked this many times within it… */
const CHECKS_PER_TIMEOUT = 4;
/** …but not more often than this: a tick visits every client. */
const MIN_TICK_MS = 50;

/** How often the server ticks: every TICK_MS, more often for a short idle timeout. */
export function tickInterval(idleMs: number): number {
  return Math.min(TICK_MS, Math.max(MIN_TICK_MS, idleMs / CHECKS_PER_TIMEOUT || TICK_MS));
}

interface Heard {
  /** A complete line came in since the last tick. */
  heard: boolean;
  /** Milliseconds since the epoch of the last tick that found it heard. */
  lastRead: number;
}

export class IdleSweep {
  private readonly clients = new Map<Conn, Heard>();

  constructor(
    /** 0 = never. */
    private readonly idleMs: number,
    /** `conn` was silent for `idleMs`. */
    private readonly expire: (conn: Conn) => void,
  ) {}

  /** Whether there is a time-out to keep (callers skip their work for `heard` when not). */
  get enabled(): boolean {
    return this.idleMs > 0;
  }

  /** An admitted client: its silence counts from now. */
  watch(conn: Conn): void {
    if (this.idleMs > 0) this.clients.set(conn, { heard: false, lastRead: Date.now() });
  }

  heard(conn: Conn): void {
    const client = this.clients.get(conn);
    if (client) client.heard = true;
  }

  forget(conn: Conn): void {
    this.clients.delete(conn);
  }

  /** Called every tick: expires the clients silent for the idle timeout. */
  sweep(now: number): void {
    for (const [conn, client] of this.clients) {
      if (client.heard) {
        client.heard = false;
        client.lastRead = now;
        continue;
      }
      // Not read because of others (a congested room, a full stdout) or of its rate limit (its lines
      // wait) is not silence, and a paused client could not be heard until it was resumed; an echo
      // client paused because it does not read its echo is idle.
      const heldBack = conn.pausedFor("room") || conn.pausedFor("output") || conn.pausedFor("rate");
      if (conn.isOpen && !heldBack && now - Math.max(client.lastRead, conn.resumedAt) >= this.idleMs) this.expire(conn);
    }
  }
}
