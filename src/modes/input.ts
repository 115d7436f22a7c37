/**
 * One client's incoming bytes as lines: telnet negotiation removed, lines
 * framed. `LineInput` hands over raw line bytes (echo and oneway print them
 * with `sanitizeInto`, no strings made); `TextInput` decodes and sanitises
 * each line into text (the room parses and relays it).
 */
import type { Conn } from "../net/conn.ts";
import { copyOf } from "../text/bytes.ts";
import { type BulkLineHandler, LineFramer, type LineRangeHandler } from "../text/lines.ts";
import { decodeLine } from "../text/sanitize.ts";
import { TelnetFilter } from "../text/telnet.ts";
import type { ModeContext } from "./mode.ts";

/** Says, after each line, whether to stop handing lines over for now (the room is congested). */
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

  /** Hands over the lines held back; false when `hold` stopped it again. */
  release(): boolean {
    const held = this.held;
    this.held = null;
    if (held) this.feed(held, held.length);
    return this.held === null;
  }

  /** The client closed: held lines and a last line without a newline still count. */
  finish(): void {
    const held = this.held;
    this.held = null;
    if (held) this.framer.push(held);
    this.framer.flush();
  }

  private feed(bytes: Uint8Array, end: number): void {
    const at = this.framer.push(bytes, 0, end, this.hold === NEVER ? undefined : this.hold);
    // A copy: `bytes` is the socket's read buffer or the telnet filter's shared one.
    if (at < end) this.held = copyOf(bytes, at, end);
  }
}

export class TextInput extends LineInput {
  constructor(maxLine: number, onLine: (text: string, cut: boolean) => void, hold?: Hold) {
    super(maxLine, (bytes, start, end, cut) => onLine(decodeLine(bytes.subarray(start, end)), cut), hold);
  }
}

/**
 * Echo and oneway: each line a client sends is printed as `PEER: TEXT`,
 * straight from its bytes when the server has a line writer, otherwise as a
 * `message` event. Null when the line writer says its lines go nowhere
 * (stdout is /dev/null and there is no --log): nothing to frame.
 */
export function printedLines(ctx: ModeContext, conn: Conn): LineInput | null {
  if (ctx.output.lines) {
    const printer = ctx.output.lines(conn.peer);
    if (!printer) return null;
    const maxLine = ctx.maxLine;
    return new LineInput(
      maxLine,
      (bytes, start, end) => printer.line(bytes, start, end),
      NEVER,
      (bytes, start, end) => printer.plainLines(bytes, start, end, maxLine),
    );
  }
  return new TextInput(ctx.maxLine, (text) => ctx.output.event({ type: "message", from: conn.peer, text }));
}
