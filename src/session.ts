/**
 * What `chat connect` does once connected: copies stdin to the server and the
 * server to stdout, on a terminal through a line editor and otherwise as a
 * transparent byte pipe (like nc). In a room it takes the user's name before
 * the first line is sent.
 */
import type { ClientHandle } from "./client.ts";
import { ChatError, reason } from "./errors.ts";
import { type ChatEvent, parseLine } from "./events.ts";
import { CLOSE_GRACE_MS } from "./net/conn.ts";
import { colorEnabled, logger, StdoutWriter } from "./output.ts";
import { Printer } from "./printer.ts";
import { Terminal } from "./terminal.ts";
import { LineSplitter } from "./text/lines.ts";
import { decodeLine } from "./text/sanitize.ts";

/** A room greets first; other servers are given this long (at least) to do so. */
export const GREETING_WAIT_MS = 300;
const GREETING = /^\* welcome, you are ([A-Za-z0-9_.-]{1,24}) .*\/nick/;
/** Stop reading stdin while this much is waiting to be sent. */
const INPUT_HIGH_WATER = 1024 * 1024;
/** Long enough for any line a chat server sends; longer ones are cut for display. */
const DISPLAY_MAX_LINE = 1024 * 1024;

export interface SessionOptions {
  /** Name to take in a room ('' or undefined: keep the server's). */
  name?: string;
  json?: boolean;
  /** How long connecting took: the greeting wait scales with it on slow links. */
  connectMs?: number;
}

export class Session {
  private readonly out = new StdoutWriter();
  private readonly terminal: Terminal | null;
  private readonly printer: Printer;
  private readonly lines: LineSplitter | null;
  private readonly held: Uint8Array[] = [];
  private ready = false;
  private room = false;
  private me: string | undefined;
  private inputDone = false;
  private sawFirst = false;
  private onFirst: (() => void) | null = null;

  constructor(
    private readonly client: ClientHandle,
    private readonly options: SessionOptions,
  ) {
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true && !options.json;
    this.terminal = interactive ? new Terminal({ line: (line) => this.typed(line), close: () => this.leave() }) : null;
    const style = options.json ? "json" : colorEnabled(process.stdout) ? "tty" : "plain";
    this.printer = new Printer((text) => this.print(text), { style });
    const byLine = options.json === true || process.stdout.isTTY === true;
    this.lines = byLine ? new LineSplitter(DISPLAY_MAX_LINE, (line) => this.received(decodeLine(line))) : null;
    if (!interactive) this.readStdin();
    this.out.onClosed = () => client.conn.destroy();
  }

  /** Runs until the connection closes; resolves with the exit code. */
  async run(): Promise<number> {
    const sniffer = new LineSplitter(1024, (line) => this.first(decodeLine(line)));
    this.client.onData((chunk) => {
      if (!this.sawFirst) sniffer.push(chunk);
      if (this.lines) this.lines.push(chunk);
      else if (!this.out.bytes(chunk)) this.backpressure();
    });
    await this.greet();
    const error = await this.client.closed;
    this.lines?.flush();
    this.terminal?.close();
    await this.out.drained();
    if (error && !this.out.isClosed) {
      // A ChatError says what happened in full (the server speaks TLS).
      logger.error(error instanceof ChatError ? error.message : `connection lost: ${reason(error)}`);
      return 1;
    }
    logger.info("disconnected");
    return 0;
  }

  /** The server's first line tells whether it is a room, and our name there. */
  private first(line: string): void {
    this.sawFirst = true;
    const greeting = GREETING.exec(line);
    if (greeting) {
      this.room = true;
      this.me = greeting[1];
    }
    this.onFirst?.();
  }

  /**
   * With a name to take, waits (briefly) for a room's greeting and sends
   * `/nick` before anything else; then releases input held meanwhile. Echo and
   * oneway servers never greet, so nothing extra is ever sent to them.
   */
  private async greet(): Promise<void> {
    const name = this.options.name;
    if (name && !this.sawFirst) {
      const wait = Math.min(2000, Math.max(GREETING_WAIT_MS, 4 * (this.options.connectMs ?? 0)));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.onFirst = () => {
          clearTimeout(timer);
          resolve();
        };
        this.client.closed.then(() => resolve());
      });
      this.onFirst = null;
    }
    if (this.room && name && name !== this.me) this.client.send(`/nick ${name}\n`);
    this.ready = true;
    for (const chunk of this.held.splice(0)) this.client.send(chunk);
    if (this.inputDone) this.client.finish();
  }

  private send(bytes: Uint8Array): void {
    if (this.ready) this.client.send(bytes);
    else this.held.push(bytes);
  }

  private readStdin(): void {
    const stdin = process.stdin;
    stdin.on("data", (chunk: Buffer) => {
      this.send(chunk);
      if (this.client.conn.queued > INPUT_HIGH_WATER) stdin.pause();
    });
    this.client.conn.onDrain = () => {
      if (this.client.conn.queued <= INPUT_HIGH_WATER / 4) stdin.resume();
    };
    stdin.on("end", () => {
      this.inputDone = true;
      if (this.ready) this.client.finish();
    });
    stdin.on("error", () => {
      this.inputDone = true;
      if (this.ready) this.client.finish();
    });
  }

  private typed(line: string): void {
    this.send(Buffer.from(`${line}\n`));
    const own = this.room && this.me && line.trim() !== "" && (!line.startsWith("/") || line.startsWith("//"));
    if (own && this.terminal) {
      const text = line.startsWith("//") ? line.slice(1) : line;
      this.terminal.replaceEntered(line, formatOwn(this.printer, { type: "message", from: this.me ?? "", text }));
    }
  }

  /** Ctrl+D or Ctrl+C on the terminal: half-close and let the server finish. */
  private leave(): void {
    this.client.conn.end(CLOSE_GRACE_MS);
  }

  private received(line: string): void {
    const event: ChatEvent = this.room ? parseLine(line) : { type: "message", text: line };
    if (this.room && event.type === "notice") this.trackName(event.text);
    this.printer.event(event);
  }

  private trackName(text: string): void {
    const renamed = /^(?:you are now (\S+)|(\S+) is now (\S+))$/.exec(text);
    if (!renamed) return;
    if (renamed[1]) this.me = renamed[1];
    else if (renamed[2] === this.me) this.me = renamed[3];
  }

  private print(text: string): void {
    if (this.terminal) this.terminal.print(text);
    else this.out.text(text);
  }

  /** stdout (a pipe) is full: stop reading from the server until it drains. */
  private backpressure(): void {
    this.client.conn.pause();
    process.stdout.once("drain", () => this.client.conn.resume());
  }
}

function formatOwn(printer: Printer, event: ChatEvent): string {
  let text = "";
  new Printer((t) => {
    text = t;
  }, printer.options).event(event);
  return text;
}
