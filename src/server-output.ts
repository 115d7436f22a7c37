/**
 * Where `chat serve` puts the conversation: events go to stdout (text or
 * JSON lines) and to the --log transcript; in echo and oneway, connects and
 * disconnects are status lines on stderr instead. Plain text output with no
 * transcript takes the byte paths: received lines are printed straight from
 * their bytes, with no event or string made per line.
 *
 * When stdout is /dev/null (see dev-null.ts) nothing is formatted for it:
 * with no transcript the modes get an output that takes nothing (echo and
 * oneway do not even frame lines, a room relays without printing); with
 * --log the transcript still gets every event. Status lines are unchanged.
 */
import { isDevNull, STDOUT_FD } from "./dev-null.ts";
import type { ChatEvent } from "./events.ts";
import type { LineWriterFactory, ModeName, ModeOutput } from "./modes/mode.ts";
import { status } from "./output.ts";
import { Printer, type Style, type Transcript } from "./printer.ts";
import { StdoutWriter } from "./stdout.ts";
import { linePrefix } from "./text/plain-lines.ts";

/** Received lines go nowhere: echo and oneway do not frame them. */
const NOWHERE: LineWriterFactory = () => null;
/** A room's relayed lines are not printed (the room still relays them to its members). */
const NOTHING = () => {};

export class ServerOutput {
  readonly stdout = new StdoutWriter();
  /** What the mode is given (serve's `output`). */
  readonly output: ModeOutput;
  private print = (text: string) => this.stdout.text(text);

  constructor(
    mode: ModeName,
    style: Style,
    private readonly log?: Transcript,
    /** stdout is /dev/null: nothing is printed to it. */
    readonly discard = isDevNull(STDOUT_FD),
  ) {
    const event = eventSink(mode, style, discard ? null : this.stdout, (text) => this.print(text), log);
    // Another room's lines are events: each is labelled (the byte paths print no label).
    const inRoom = (room: string): ModeOutput => ({ event: (e) => event(e, room), relayed: discard && !log ? NOTHING : undefined });
    if (discard) this.output = log ? { event, inRoom } : { event, lines: NOWHERE, relayed: NOTHING, inRoom };
    else if (style === "plain" && !log)
      this.output = { event, lines: plainLineWriter(this.stdout), relayed: this.stdout.raw.bind(this.stdout), inRoom };
    else this.output = { event, inRoom };
  }

  /** Conversation text goes through `print` from now on (the console's line editor prints it above its prompt). */
  printThrough(print: (text: string) => void): void {
    this.print = print;
  }

  /** Flushes the transcript; resolves true once stdout took everything, false if `timeoutMs` passed first. */
  finish(timeoutMs: number): Promise<boolean> {
    this.log?.flush();
    return this.stdout.drained(timeoutMs);
  }
}

/** Conversation events to stdout (text or JSON; `out` null: nowhere) and --log; in echo/oneway, connects are status lines. */
function eventSink(mode: ModeName, style: Style, out: StdoutWriter | null, print: (text: string) => void, log?: Transcript) {
  const json = style === "json";
  const printer = new Printer(print, { style, serverView: true });
  return (event: ChatEvent, room?: string) => {
    log?.event(event, undefined, room);
    if (mode !== "twoway" && !json && (event.type === "join" || event.type === "leave")) {
      status(`${event.peer} ${event.type === "join" ? "connected" : "disconnected"}`);
      return;
    }
    if (out && !out.isClosed) printer.event(event, undefined, room);
  };
}

/**
 * For plain output with no transcript: echo and oneway print each received line
 * as `PEER: TEXT` straight from its bytes, the same text the `message` event
 * would print, without making a string per line (a busy echo server prints
 * as fast as clients send). A room does the same with the plain lines it
 * relays (`relayed`).
 */
function plainLineWriter(out: StdoutWriter): LineWriterFactory {
  return (from) => {
    const prefix = linePrefix(`${from}: `);
    return {
      line: (bytes, start, end) => out.line(prefix.bytes, bytes, start, end),
      plainLines: (bytes, start, end, maxLine) => out.plainLines(prefix, bytes, start, end, maxLine),
    };
  };
}
