/**
 * One client's incoming bytes as lines: telnet negotiation removed, lines
 * framed. `LineInput` hands over raw line bytes (echo and oneway print them
 * with `sanitizeInto`, no strings made; the room relays plain lines as they
 * are and decodes the rest), and holds lines back while told to (a congested
 * room, a rate limit).
 */
import { type Rate, TokenBucket } from "../net/bucket.ts";
import type { Conn } from "../net/conn.ts";
import { Throttle } from "../net/throttle.ts";
import { copyOf } from "../text/bytes.ts";
import { type BulkLineHandler, LineFramer, type LineRangeHandler } from "../text/lines.ts";
import { decodeLine } from "../text/sanitize.ts";
import { TelnetFilter } from "../text/telnet.ts";
import type { ModeContext } from "./mode.ts";

/** Says, after each line, whether to stop handing lines over for now (the room is congested, a rate limit is reached). */
export type Hold = () => boolean;
const NEVER: Hold = () => false;

export class LineInput {
  private readonly telnet = new TelnetFilter();
  private readonly framer: LineFramer;
  /**
   * Bytes (telnet already removed) not framed yet because `hold` said stop.
   * A read can bring 512 KiB of lines at once: holding the rest back keeps a
   * congested room from fanning all of it out past the receivers' limits.
   */
  private held: Uint8Array | null = null;

  constructor(
    maxLine: number,
    onLine: LineRangeHandler,
    private readonly hold: Hold = NEVER,
    bulk?: BulkLineHandler,
  ) {
    this.framer = new LineFramer(maxLine, onLine, bulk);
  }

  push(chunk: Uint8Array): void {
    // No allocation for a chunk in the usual case: ranges of the read buffer
    // (or of the telnet filter's shared one) go to the framer.
    const bytes = this.telnet.filter(chunk);
    const length = this.telnet.length;
    // Bytes that arrive while some are held go behind them, in order.
    if (this.held) this.held = Buffer.concat([this.held, bytes.subarray(0, length)]);
    else this.feed(bytes, length);
  }

  /** Hands over the lines held back; false when `hold` stopped it again (or says stop before the first). */
  release(): boolean {
    const held = this.held;
    if (!held) return true;
    if (this.hold()) return false;
    this.held = null;
    this.feed(held, held.length, true);
    return this.held === null;
  }

  /** The bytes held back, taken away (the member moved to another room: its new input gets them). */
  takeHeld(): Uint8Array | null {
    const held = this.held;
    this.held = null;
    return held;
  }

  /** The client closed: held lines and a last line without a newline still count. */
  finish(): void {
    const held = this.held;
    this.held = null;
    if (held) this.framer.push(held);
    this.framer.flush();
  }

  /** `owned`: `bytes` are held bytes, kept as they are (a rate limit may release them a line at a time). */
  private feed(bytes: Uint8Array, end: number, owned = false): void {
    const at = this.framer.push(bytes, 0, end, this.hold === NEVER ? undefined : this.hold);
    // Otherwise a copy: `bytes` is the socket's read buffer or the telnet filter's shared one.
    if (at < end) this.held = owned ? bytes.subarray(at, end) : copyOf(bytes, at, end);
  }
}

/**
 * Echo and oneway: each line a client sends is printed as `PEER: TEXT`,
 * straight from its bytes when the server has a line writer, otherwise as a
 * `message` event; at most `ctx.rateLimit` lines (see throttled). Null when
 * the line writer says its lines go nowhere (stdout is /dev/null and there is
 * no --log): nothing to frame.
 */
export function printedLines(ctx: ModeContext, conn: Conn): LineInput | null {
  const printer = ctx.output.lines?.(conn.peer);
  if (printer === null) return null;
  const maxLine = ctx.maxLine;
  const line: LineRangeHandler = printer
    ? (bytes, start, end) => printer.line(bytes, start, end)
    : (bytes, start, end) => ctx.output.event({ type: "message", from: conn.peer, text: decodeLine(bytes.subarray(start, end)) });
  const bulk: BulkLineHandler | undefined = printer && ((bytes, start, end) => printer.plainLines(bytes, start, end, maxLine));
  return ctx.rateLimit ? throttled(conn, ctx.rateLimit, maxLine, line, bulk) : new LineInput(maxLine, line, NEVER, bulk);
}

/** Lines at most `rate`: past it the connection is not read, and the lines read wait, until one may go (see Throttle). */
function throttled(conn: Conn, rate: Rate, maxLine: number, line: LineRangeHandler, bulk?: BulkLineHandler): LineInput {
  const bucket = new TokenBucket(rate.lines, rate.periodMs);
  const throttle = new Throttle(conn, [bucket], () => input.release());
  const counted: LineRangeHandler = (bytes, start, end, cut) => {
    throttle.take(bucket);
    line(bytes, start, end, cut);
  };
  const input = new LineInput(maxLine, counted, () => throttle.out, bulk && throttle.limitBulk(bucket, bulk));
  return input;
}
