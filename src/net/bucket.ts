/**
 * A token bucket: `burst` tokens at most, refilled continuously at `burst`
 * per `periodMs` (so `5/1s` is five at once, then one every 200 ms). Taking
 * may overdraw it (a line already read must be passed on); the debt is paid
 * by waiting longer. Pure: the caller gives the time.
 */

/** LINES per DURATION, as `--rate-limit 5/1s` gives it. */
export interface Rate {
  lines: number;
  periodMs: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;
  private readonly msPerToken: number;

  constructor(
    readonly burst: number,
    periodMs: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
    this.msPerToken = periodMs / burst;
  }

  /** Tokens there now (fractional; below 0 when overdrawn). */
  level(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.msPerToken);
      this.at = now;
    }
    return this.tokens;
  }

  /** Whole tokens there now: how many may be taken without waiting. */
  whole(now: number): number {
    return Math.max(0, Math.floor(this.level(now)));
  }

  take(n: number, now: number): void {
    this.level(now);
    this.tokens -= n;
  }

  /** Milliseconds until a whole token is there (0: there is one now). */
  wait(now: number): number {
    const missing = 1 - this.level(now);
    return missing <= 0 ? 0 : Math.ceil(missing * this.msPerToken);
  }
}
