/**
 * Renders conversation events for a person or a program: plain lines (pipes
 * and files), coloured lines with timestamps (terminals), or one JSON object
 * per line (`--json`). The server's own view adds the peer address to joins.
 */
import { closeSync, fstatSync, openSync, renameSync, writeSync } from "node:fs";
import { type ChatEvent, eventJson, eventLine } from "./events.ts";
import { colors } from "./output.ts";

export type Style = "plain" | "tty" | "json";

const NAME_COLORS = [colors.cyan, colors.green, colors.magenta, colors.blue, colors.yellow, colors.red];

/** A stable colour per name, so a person keeps theirs for the whole session. */
export function nameColor(name: string): (text: string) => string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return NAME_COLORS[hash % NAME_COLORS.length] ?? colors.cyan;
}

function clock(at: Date): string {
  return at.toTimeString().slice(0, 8);
}

function ttyLine(event: ChatEvent, plain: string, at: Date, room?: string): string {
  const stamp = colors.gray(clock(at)) + (room === undefined ? "" : ` ${colors.gray(`[${room}]`)}`);
  switch (event.type) {
    case "message": {
      if (event.from === undefined) return `${stamp} ${plain}`;
      const who = nameColor(event.from)(event.from);
      const to = event.to === undefined ? "" : ` -> ${nameColor(event.to)(event.to)}`;
      return `${stamp} ${who}${to}: ${event.text}`;
    }
    case "error":
      return `${stamp} ${colors.red(plain)}`;
    default:
      return `${stamp} ${colors.gray(plain)}`;
  }
}

export interface PrinterOptions {
  style: Style;
  /** The server shows where people connect from. */
  serverView?: boolean;
}

export class Printer {
  constructor(
    private readonly sink: (text: string) => void,
    readonly options: PrinterOptions,
  ) {}

  /** The plain text of an event as this printer's viewer sees it; an event of a server's other room starts with `[ROOM] `. */
  line(event: ChatEvent, room?: string): string {
    const label = room === undefined ? "" : `[${room}] `;
    const plain = eventLine(event);
    if (this.options.serverView && event.type === "join") {
      // A server's console joining a cluster room has no address.
      return `${label}${plain}${event.peer ? ` from ${event.peer}` : ""}${event.node ? ` via ${event.node}` : ""}`;
    }
    return label + plain;
  }

  /** `at` defaults to now; plain lines carry no time, so none is read for them. `room`: see `line`. */
  event(event: ChatEvent, at?: Date, room?: string): void {
    switch (this.options.style) {
      case "json":
        this.sink(`${eventJson(event, at ?? new Date(), room)}\n`);
        return;
      case "tty":
        this.sink(`${ttyLine(event, this.line(event), at ?? new Date(), room)}\n`);
        return;
      case "plain":
        this.sink(`${this.line(event, room)}\n`);
    }
  }
}

/** A new transcript is readable by its owner only: it holds who said what, and from where. */
const LOG_FILE_MODE = 0o600;

/**
 * `--log FILE`: an append-only transcript, one timestamped line per event,
 * never truncated on start. With `maxBytes`, a line that would take FILE past
 * it first moves FILE to FILE.1 (replacing the older one) and starts a new FILE.
 */
export class Transcript {
  private fd: number;
  /** Bytes in FILE now. */
  private size: number;
  private pending: string[] = [];
  private scheduled = false;
  private readonly printer: Printer;

  constructor(
    private readonly path: string,
    /** 0 = no limit. */
    private readonly maxBytes = 0,
  ) {
    this.fd = openSync(path, "a", LOG_FILE_MODE);
    this.size = fstatSync(this.fd).size;
    this.printer = new Printer(() => {}, { style: "plain", serverView: true });
  }

  event(event: ChatEvent, at = new Date(), room?: string): void {
    this.pending.push(`${at.toISOString()} ${this.printer.line(event, room)}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    if (this.maxBytes <= 0) {
      this.write(lines.join(""));
      return;
    }
    // Lines are written in runs that fit; a line that would pass the limit starts a new file.
    let run = "";
    let runBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.size + runBytes > 0 && this.size + runBytes + bytes > this.maxBytes) {
        if (run) this.write(run, runBytes);
        run = "";
        runBytes = 0;
        this.rotate();
      }
      run += line;
      runBytes += bytes;
    }
    if (run) this.write(run, runBytes);
  }

  private write(text: string, bytes = Buffer.byteLength(text)): void {
    writeSync(this.fd, text);
    this.size += bytes;
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, "a", LOG_FILE_MODE);
    this.size = 0;
  }
}
