/**
 * A server's writes to the room, in order: operations said in one turn of
 * the event loop go to Redis as one batch (one script call, run whole), and
 * batches are pipelined on the link in order. Each batch has a number the
 * script remembers for this server's boot, so a batch sent again after a
 * drop is never applied twice. When the link drops, what was in flight waits;
 * once the link is back the server learns how far Redis got (`resume`) and
 * sends the rest again, renumbered, after the operations that put the
 * server back in the room.
 */
import type { RoomKeys } from "./keys.ts";
import { pubKey } from "./keys.ts";
import { LinkDown, type RedisLink, type Reply } from "./link.ts";
import { scripts } from "./scripts.ts";

export type OpKind =
  | "message"
  | "action"
  | "claim"
  | "join"
  | "leave"
  | "rename"
  | "tell"
  | "kick"
  | "mute"
  | "away"
  | "topic"
  | "ban"
  | "unban";

/** One operation (see scripts.ts for what `a`, `b`, `x` and `y` mean for each). */
export interface Op {
  op: OpKind;
  a: string;
  b: string;
  /** The member's serial on this server. */
  s: number;
  x: string;
  y?: string;
  /** Its result: 1 or 0, a line's number, a name; undefined when Redis applied it but the reply was lost. */
  done?: (result: Reply | undefined) => void;
  /** Redis refused it (an error it answered): tell whoever asked. */
  refused?: (why: string) => void;
}

interface Batch {
  seq: number;
  ops: Op[];
}

/** Operations in one batch at most: a script runs alone in Redis, so a huge one would hold up every other server. */
const BATCH_OPS = 256;
/** Unsettled operations past this hold the room's input (lossless, like flow control) until they are down to the low mark. */
export const PUBLISH_HIGH = 8192;
const PUBLISH_LOW = 2048;

/**
 * How a batch's operations go on the wire: each alone, except a member's
 * messages in a row, which go together (a burst of lines is a few stream
 * entries, not one per line; each keeps its own number and place).
 */
export function wireGroups(ops: readonly Op[]): Op[][] {
  const groups: Op[][] = [];
  let run: Op[] | null = null;
  for (const op of ops) {
    const head = run?.[0];
    if (run && head && op.op === "message" && head.op === "message" && op.s === head.s && op.a === head.a && run.length < LINES_PER_ENTRY) {
      run.push(op);
      continue;
    }
    run = [op];
    groups.push(run);
  }
  return groups;
}

/** Lines in one stream entry at most. */
const LINES_PER_ENTRY = 64;

export interface PublisherContext {
  keys: RoomKeys;
  boot: string;
  /** The server's name in the room (it may change when the server had to register again). */
  node: () => string;
  /** The room stream's length bound. */
  maxlen: string;
  /** Redis said FENCED: this server was taken for lost and must register again. */
  fenced: () => void;
  /** Too much waits to be written (true), or no longer (false). */
  busy: (busy: boolean) => void;
}

export class Publisher {
  private forming: Op[] = [];
  private scheduled = false;
  private readonly inFlight = new Map<Batch, Promise<void>>();
  /** Batches that did not get a reply: sent again by `resume`, in order. */
  private waiting: Batch[] = [];
  private seq = 0;
  private unsettled = 0;
  private isBusy = false;
  private link: RedisLink | null = null;

  constructor(private readonly ctx: PublisherContext) {}

  /** How many operations wait for Redis. */
  get pending(): number {
    return this.unsettled;
  }

  push(op: Op): void {
    this.forming.push(op);
    this.count(1);
    if (this.scheduled || !this.link) return;
    this.scheduled = true;
    queueMicrotask(this.send);
  }

  /** Sends over `link` from now on (the first link). */
  use(link: RedisLink): void {
    this.link = link;
    this.send();
  }

  /** The link is down (or this server fenced): nothing is sent until `resume`. */
  pause(): void {
    this.link = null;
  }

  /**
   * The link is back. Waits for every batch in flight to be settled, then:
   * batches numbered up to `applied(…)` ran; the others go again after
   * `first` (the operations that put this server back in the room).
   */
  async resume(link: RedisLink, applied: () => Promise<number>, first: Op[]): Promise<void> {
    await Promise.all(this.inFlight.values());
    const done = await applied();
    const waiting = this.waiting.sort((x, y) => x.seq - y.seq);
    this.waiting = [];
    for (const batch of waiting) if (batch.seq <= done) this.settle(batch, undefined);
    this.seq = Math.max(done, 0);
    this.link = link;
    this.count(first.length);
    if (first.length > 0) this.dispatch(first);
    for (const batch of waiting) if (batch.seq > done) this.dispatch(batch.ops);
    this.send();
  }

  /** Every operation sent and settled, or `ms` passed (a stopping server); true when nothing is left. */
  async drain(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.unsettled > 0 && this.link && Date.now() < deadline) {
      this.send();
      await Promise.race([Promise.all(this.inFlight.values()), Bun.sleep(Math.max(1, deadline - Date.now()))]);
    }
    return this.unsettled === 0;
  }

  /** What never reached Redis (a server stopping without a link). */
  abandon(): Op[] {
    const left = [...this.waiting.flatMap((b) => b.ops), ...this.forming];
    this.waiting = [];
    this.forming = [];
    return left;
  }

  private readonly send = (): void => {
    this.scheduled = false;
    if (!this.link) return;
    while (this.forming.length > 0) this.dispatch(this.forming.splice(0, BATCH_OPS));
  };

  private dispatch(ops: Op[]): void {
    const link = this.link;
    if (!link) {
      this.forming.unshift(...ops);
      return;
    }
    const batch = { seq: ++this.seq, ops };
    const { keys } = this.ctx;
    const args = [this.ctx.node(), this.ctx.boot, String(batch.seq), this.ctx.maxlen, keys.prefix];
    for (const group of wireGroups(ops)) {
      const op = group[0] as Op;
      if (group.length === 1) args.push(op.op, op.a, op.b, String(op.s), op.x, op.y ?? "");
      // A member's lines in a row: one stream entry (`lines`), their texts one per line, numbered from its first.
      else args.push("lines", op.a, op.b, String(op.s), group.map((line) => line.x).join("\n"), String(group.length));
    }
    const sent = scripts.ops
      .run(link, [keys.log, keys.meta, keys.names, keys.boots, pubKey(keys, this.ctx.boot), keys.info, keys.bans], args)
      .then(
        (reply) => this.settle(batch, reply === "DUP" ? undefined : reply),
        (error: unknown) => this.failed(batch, error),
      )
      .finally(() => this.inFlight.delete(batch));
    this.inFlight.set(batch, sent);
  }

  private settle(batch: Batch, reply: Reply | undefined): void {
    const results = Array.isArray(reply) ? reply : [];
    wireGroups(batch.ops).forEach((group, i) => {
      for (const op of group) op.done?.(results[i]);
    });
    this.count(-batch.ops.length);
  }

  private failed(batch: Batch, error: unknown): void {
    const message = (error as Error).message ?? String(error);
    if (error instanceof LinkDown || /^FENCED/.test(message)) {
      this.waiting.push(batch);
      if (!(error instanceof LinkDown) && this.link) {
        this.pause();
        this.ctx.fenced();
      }
      return;
    }
    // Redis answered with an error (out of memory, a read-only replica): nothing was written.
    for (const op of batch.ops) op.refused?.(message);
    this.count(-batch.ops.length);
  }

  private count(delta: number): void {
    this.unsettled += delta;
    const busy = this.isBusy ? this.unsettled > PUBLISH_LOW : this.unsettled > PUBLISH_HIGH;
    if (busy === this.isBusy) return;
    this.isBusy = busy;
    this.ctx.busy(busy);
  }
}
