/**
 * What the open-file limit allows: how many clients may be admitted (--max-clients is clamped to
 * it), and how many sockets may be open at once before the server stops accepting.
 *
 * Why stop accepting: when accept() fails for want of a descriptor (EMFILE), the connection
 * stays queued and the listener stays readable, and Bun's accept loop (uSockets'
 * `us_internal_dispatch_ready_poll`, "Todo: start timer here") tries again at once, for ever:
 * 100 % of a core and nobody served. So the server never lets accept() reach the limit: it
 * counts its sockets, closes the listener a few descriptors short of the limit, and listens
 * again once enough have closed.
 */

/**
 * Descriptors the clamp keeps for everything but admitted clients: refused connections while
 * they are told why, a TLS handshake, the log being rotated, and whatever Bun opens itself.
 * At most a quarter of what is free, so a small limit still admits most of what it can.
 */
export const FD_RESERVE = 64;
/** Descriptors never used by sockets, within the reserve: the listener opened again, a log rotated. */
export const FD_MARGIN = 8;

export interface FdPlan {
  /** --max-clients as the limit allows. */
  maxClients: number;
  /** True when the limit made it lower than asked. */
  clamped: boolean;
  /** Descriptors kept for everything but admitted clients. */
  reserve: number;
  /** Sockets (admitted or being refused) at which accepting stops; Infinity: never. */
  pauseAt: number;
  /** Sockets at or below which accepting starts again. */
  resumeAt: number;
}

/**
 * The plan for `limit` descriptors (Infinity: no limit known) of which `inUse` are open before
 * the server listens, with `requested` clients asked for.
 */
export function planFds(requested: number, limit: number, inUse: number): FdPlan {
  if (!Number.isFinite(limit)) {
    return { maxClients: requested, clamped: false, reserve: 0, pauseAt: Number.POSITIVE_INFINITY, resumeAt: Number.POSITIVE_INFINITY };
  }
  const free = Math.max(0, limit - inUse);
  const reserve = Math.min(FD_RESERVE, Math.ceil(free / 4));
  const fit = Math.max(1, free - reserve);
  const maxClients = Math.min(requested, fit);
  // Room to refuse someone even at a tiny limit: one socket past the clients.
  const pauseAt = Math.max(maxClients + 1, free - Math.min(FD_MARGIN, Math.floor(reserve / 2)));
  // Half the room for refusals free again before listening again: not one re-listen per refusal.
  const resumeAt = pauseAt - Math.ceil((pauseAt - maxClients) / 2);
  return { maxClients, clamped: maxClients < requested, reserve, pauseAt, resumeAt };
}

/** The warning a clamp deserves, naming the numbers. */
export function clampWarning(requested: number, plan: FdPlan, limit: number, inUse: number): string {
  return (
    `--max-clients ${requested} lowered to ${plan.maxClients}: the open-file limit (ulimit -n) is ${limit}, ` +
    `${inUse} in use at start and ${plan.reserve} kept for refusing connections and the server's own files`
  );
}

/** What the gate opens and closes: the listener. `resume` throws when it cannot listen again. */
export interface AcceptControl {
  pause(): void;
  resume(): void;
}

/** How long to wait before trying again to listen when the port could not be taken back. */
export const RELISTEN_RETRY_MS = 1000;

/**
 * Counts the server's sockets and stops accepting at the plan's `pauseAt`, starting again at
 * `resumeAt` or below. Told of every socket opened and closed.
 */
export class AcceptGate {
  private sockets = 0;
  private paused = false;
  private retry: Timer | null = null;
  private stopped = false;

  constructor(
    private readonly plan: FdPlan,
    private readonly control: AcceptControl,
    private readonly status: (text: string) => void,
  ) {}

  get accepting(): boolean {
    return !this.paused;
  }

  opened(): void {
    this.sockets++;
    if (this.paused || this.sockets < this.plan.pauseAt) return;
    this.paused = true;
    this.control.pause();
    this.status(`${this.sockets} connections open, near the open-file limit: not accepting until some close`);
  }

  closed(): void {
    this.sockets--;
    if (this.paused && !this.retry && this.sockets <= this.plan.resumeAt) this.resume();
  }

  /** The server stops for good: no more listening again. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private resume(): void {
    this.retry = null;
    if (this.stopped) return;
    try {
      this.control.resume();
    } catch (error) {
      this.status(`${(error as Error).message}; trying again in ${RELISTEN_RETRY_MS / 1000}s`);
      this.retry = setTimeout(() => this.resume(), RELISTEN_RETRY_MS);
      return;
    }
    this.paused = false;
    this.status(`${this.sockets} connections open: accepting again`);
  }
}
