/**
 * What a room member may send, kept by flow control (see Throttle): over a
 * limit, reading that member pauses and its lines wait, in order; the rest
 * of the room is not delayed, and nothing is dropped.
 *
 * Two buckets, and each line a member types takes a token from one:
 * - commands that answer the member alone (`/who`, `/help`, `/events`,
 *   `/nick`, a usage error, an unknown command): COMMAND_BURST at once, then
 *   COMMANDS_PER_SECOND; a reply can cost the server far more than its
 *   command costs the sender (`/who` in a big room, `/events json`).
 * - lines said to others (chat lines, `/me`, `/msg`): `--rate-limit`, when
 *   given (none by default).
 * `/quit` takes nothing.
 */
import { type Rate, TokenBucket } from "../net/bucket.ts";
import type { Conn } from "../net/conn.ts";
import { Throttle } from "../net/throttle.ts";
import type { BulkLineHandler } from "../text/lines.ts";
import { parseInput } from "./commands.ts";
import type { RateBuckets } from "./members.ts";

/** Commands a member may send at once… */
export const COMMAND_BURST = 20;
/** …and then per second. */
export const COMMANDS_PER_SECOND = 10;

/** Which bucket a typed line (decoded; not plain saying) takes its token from. */
export function costOf(text: string): "line" | "command" | "free" {
  if (!text.startsWith("/") || text.startsWith("//")) return "line";
  const kind = parseInput(text).kind;
  if (kind === "quit") return "free";
  return kind === "say" || kind === "me" || kind === "msg" ? "line" : "command";
}

/** One member's limits. */
export class MemberRate {
  private readonly lines: TokenBucket | null;
  private readonly commands: TokenBucket;
  private readonly throttle: Throttle;

  /**
   * `release`: the member may go on; hand over the lines held back (see Throttle).
   * `kept`: the buckets of the member it was in another room (a move does not fill them).
   */
  constructor(conn: Conn, rate: Rate | undefined, release: () => void, kept?: RateBuckets) {
    this.lines = kept ? kept.lines : rate ? new TokenBucket(rate.lines, rate.periodMs) : null;
    this.commands = kept?.commands ?? new TokenBucket(COMMAND_BURST, (COMMAND_BURST * 1000) / COMMANDS_PER_SECOND);
    this.throttle = new Throttle(conn, this.lines ? [this.commands, this.lines] : [this.commands], release);
  }

  get buckets(): RateBuckets {
    return { lines: this.lines, commands: this.commands };
  }

  /** Over a limit: the member's lines are held until it has tokens again. */
  get out(): boolean {
    return this.throttle.out;
  }

  /** A line that takes the text path (a command, or text to decode). */
  typed(text: string): void {
    const cost = costOf(text);
    if (cost === "command") this.throttle.take(this.commands);
    else if (cost === "line" && this.lines) this.throttle.take(this.lines);
  }

  /** A plain line said. */
  said(): void {
    if (this.lines) this.throttle.take(this.lines);
  }

  /** Plain lines said many at once, no more than the member may say now. */
  limitBulk(bulk: BulkLineHandler): BulkLineHandler {
    return this.lines ? this.throttle.limitBulk(this.lines, bulk) : bulk;
  }
}
