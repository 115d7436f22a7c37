/**
 * How the client shows a room: events rendered for a terminal (times, colour
 * when allowed, history dimmed and introduced, mentions highlighted with a
 * bell), for a pipe (the plain lines of the wire, exactly), or as JSON
 * objects (`--json`).
 */
import { colorEnabled, colors } from "./output.ts";
import { nameColor } from "./printer.ts";
import { plainLine, type RoomEvent } from "./room-link.ts";

export type ViewStyle = "tty" | "plain" | "json";

export interface ViewOptions {
  style: ViewStyle;
  color: boolean;
  timestamps: boolean;
  bell: boolean;
}

/** How `chat connect` shows things: JSON when asked, a terminal's lines (times unless turned off), or plain. */
export function viewOptions(asked: { json?: boolean; timestamps?: boolean; bell?: boolean }, interactive: boolean): ViewOptions {
  return {
    style: asked.json ? "json" : interactive ? "tty" : "plain",
    color: interactive && colorEnabled(process.stdout),
    timestamps: interactive && asked.timestamps !== false,
    bell: asked.bell !== false,
  };
}

/** Where rendered text goes: whole lines, and whether to ring the bell with them. */
export type ViewSink = (text: string, bell: boolean) => void;

/** Columns of `HH:MM:SS `: a wrapped line's later rows are indented past the time. */
export const STAMP_WIDTH = 9;

const dim = (text: string) => `\x1b[2m${text}\x1b[22m`;
const reverse = (text: string) => `\x1b[7m${text}\x1b[27m`;

/**
 * Where `name` occurs in `text` as a word of its own (names hold letters, digits, `_ - .`):
 * `alice.` and `alice-` name alice; `alice-bot` and `x.alice` are other names.
 */
export function mentionRanges(text: string, name: string): [number, number][] {
  if (!name) return [];
  const escaped = name.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  const pattern = new RegExp(`(?<![A-Za-z0-9_])(?<![A-Za-z0-9_][.-])${escaped}(?![A-Za-z0-9_])(?![.-][A-Za-z0-9_])`, "gi");
  return [...text.matchAll(pattern)].map((m) => [m.index, m.index + m[0].length]);
}

function clock(at: Date, now: Date): string {
  const time = at.toTimeString().slice(0, 8);
  if (at.toDateString() === now.toDateString()) return time;
  const day = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")}`;
  return `${day} ${time}`;
}

export class View {
  constructor(
    private readonly sink: ViewSink,
    readonly options: ViewOptions,
  ) {}

  /** A room event; `me` is the user's name there (mentions). */
  event(event: RoomEvent, me: string): void {
    if (event.type === "ready") return;
    switch (this.options.style) {
      case "json":
        this.sink(`${json(event)}\n`, false);
        return;
      case "plain":
        this.sink(`${plainLine(event)}\n`, false);
        return;
      case "tty": {
        const mentioned = isMention(event, me);
        this.sink(`${this.ttyLine(event, mentioned ? me : "")}\n`, mentioned && this.options.bell && !event.history);
      }
    }
  }

  /** A line from a server that is not a room (echo, oneway, anything else). */
  line(text: string): void {
    if (this.options.style === "json") this.sink(`${JSON.stringify({ ts: new Date().toISOString(), type: "message", text })}\n`, false);
    else if (this.options.style === "plain") this.sink(`${text}\n`, false);
    else this.sink(`${this.stamp(new Date())}${text}\n`, false);
  }

  /** A line of the client's own on a terminal (status, a history separator): dim, never sent anywhere. */
  note(text: string): void {
    if (this.options.style !== "tty") return;
    // The stamp uncoloured: its colour's end would end the line's gray.
    const line = `${this.stamp(new Date(), false)}── ${text} ──`;
    this.sink(`${this.options.color ? colors.gray(line) : line}\n`, false);
  }

  /** Before a room's replayed lines (`ready`): what they are, and whether some may be missing. */
  replayed(ready: RoomEvent, reconnected: boolean): void {
    const count = ready.replay ?? 0;
    if (reconnected && ready.complete === false) this.note("some lines said while you were away may be missing");
    const what = reconnected ? "said while you were away" : "said before you came";
    if (count > 0) this.note(`${count} ${count === 1 ? "line" : "lines"} ${what}`);
  }

  private stamp(at: Date, color = this.options.color): string {
    if (!this.options.timestamps) return "";
    const time = clock(at, new Date());
    return `${color ? colors.gray(time) : time} `;
  }

  private ttyLine(event: RoomEvent, highlight: string): string {
    const at = event.ts ? new Date(event.ts) : new Date();
    const stamp = this.stamp(Number.isNaN(at.getTime()) ? new Date() : at);
    const body = this.body(event, highlight);
    return event.history && this.options.color ? `${stamp}${dim(body)}` : `${stamp}${body}`;
  }

  private body(event: RoomEvent, highlight: string): string {
    const c = this.options.color;
    const name = (n: string) => (c ? nameColor(n)(n) : n);
    const text = this.mark(event.text, highlight);
    switch (event.type) {
      case "message":
        if (event.from === undefined) return text;
        return event.to === undefined ? `${name(event.from)}: ${text}` : `${name(event.from)} -> ${name(event.to)}: ${text}`;
      case "error":
        return c ? colors.red(`! ${event.text}`) : `! ${event.text}`;
      default: {
        // An action shows as it goes over the wire, `** NAME waves`: never `* `, so that,
        // colour or not, no action can pass for a notice of the server.
        if (event.kind === "action") {
          if (event.from && event.text.startsWith(`${event.from} `)) {
            return `** ${name(event.from)}${this.mark(event.text.slice(event.from.length), highlight)}`;
          }
          return `** ${text}`;
        }
        return c ? colors.gray(`* ${event.text}`) : `* ${event.text}`;
      }
    }
  }

  private mark(text: string, name: string): string {
    if (!name || !this.options.color) return text;
    let out = "";
    let at = 0;
    for (const [start, end] of mentionRanges(text, name)) {
      out += text.slice(at, start) + reverse(text.slice(start, end));
      at = end;
    }
    return out + text.slice(at);
  }
}

function isMention(event: RoomEvent, me: string): boolean {
  if (!me || event.from === me) return false;
  if (event.type === "message" && event.to !== undefined) return event.to === me;
  if (event.type !== "message" && event.kind !== "action") return false;
  return mentionRanges(event.text, me).length > 0;
}

/** The `--json` object: `ts` and `type` first, the protocol's own fields left out. */
function json(event: RoomEvent): string {
  const { type, ts, replay: _replay, complete: _complete, ...rest } = event;
  return JSON.stringify({ ts: ts ?? new Date().toISOString(), type, ...rest });
}
