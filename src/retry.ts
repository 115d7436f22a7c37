/**
 * Waiting between reconnect attempts: 0.25 s doubling to 5 s, each within
 * ±20 % so that the clients of a restarted server do not all return at once.
 * The wait can be cut short (the user leaves).
 */
const FIRST_MS = 250;
const MOST_MS = 5000;
const JITTER = 0.2;

export function backoff(attempt: number): number {
  const base = Math.min(MOST_MS, FIRST_MS * 2 ** attempt);
  return Math.round(base * (1 - JITTER + Math.random() * 2 * JITTER));
}

export class Retry {
  /** Attempts since the link was last up: the delay grows with them. */
  private attempts = 0;
  private wake: (() => void) | null = null;

  get waiting(): boolean {
    return this.wake !== null;
  }

  /** The link was up: the next loss starts from the shortest delay. */
  reset(): void {
    this.attempts = 0;
  }

  /** Waits before the next attempt, or less when `interrupt` is called. */
  async wait(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, backoff(this.attempts++));
    this.wake = () => {
      clearTimeout(timer);
      resolve();
    };
    await promise;
    this.wake = null;
  }

  interrupt(): void {
    this.wake?.();
  }
}
