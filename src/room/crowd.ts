/**
 * Crowds: when many people join or leave at once (a script opening 5,000
 * connections, a network blip closing 10,000), each member gets a few of the
 * notices and then one summary line (`* 312 people left`), not one line per
 * person: a storm of joins or leaves would otherwise put millions of lines
 * on the wire and on every screen. The server's own output still gets every
 * join and leave.
 */
import type { ChatEvent } from "../events.ts";
import { TokenBucket } from "../net/bucket.ts";

/** Joins and leaves shown one by one at once, at most; then CROWD_RATE a second. Past that they are counted. */
export const CROWD_BURST = 50;
export const CROWD_RATE = 100;
/** What was counted goes out as a summary this long after the first of it. */
export const CROWD_WINDOW_MS = 1000;

type Crossing = Extract<ChatEvent, { type: "join" | "leave" }>;

/** An event for everyone, but `except` (a newcomer is not told of its own join). */
export interface Told<M> {
  event: ChatEvent;
  except?: M;
}

export class Crowd<M> {
  /** Crossings that may still be shown one by one. */
  private readonly shown = new TokenBucket(CROWD_BURST, (CROWD_BURST * 1000) / CROWD_RATE, 0);
  /** When the first crossing now counted was. */
  private since = 0;
  private joined = 0;
  private left = 0;
  /** The one crossing counted, when only one was: shown as it is rather than as `1 people …`. */
  private only: Told<M> | null = null;

  /** True when `event` goes out now; false when it is counted for the next summary. */
  admit(event: Crossing, except: M | undefined, now: number): boolean {
    // Once counting, everything goes into the summary: a leave shown before the join it follows would mislead.
    if (this.joined + this.left === 0 && this.shown.whole(now) >= 1) {
      this.shown.take(1, now);
      return true;
    }
    if (this.joined + this.left === 0) this.since = now;
    if (event.type === "join") this.joined++;
    else this.left++;
    this.only = this.joined + this.left === 1 ? { event, except } : null;
    return false;
  }

  /** What was counted, once its window is over: a line for joins and one for leaves. */
  due(now: number): Told<M>[] {
    if (this.joined + this.left === 0 || now - this.since < CROWD_WINDOW_MS) return [];
    const out: Told<M>[] = this.only ? [this.only] : [];
    if (!this.only) {
      if (this.joined > 0) out.push(summary(this.joined, "joined"));
      if (this.left > 0) out.push(summary(this.left, "left"));
    }
    this.joined = 0;
    this.left = 0;
    this.only = null;
    return out;
  }
}

function summary<M>(count: number, what: "joined" | "left"): Told<M> {
  return { event: { type: "notice", kind: "crowd", text: `${count} people ${what}` } };
}
