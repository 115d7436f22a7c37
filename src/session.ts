/**
 * What `chat connect` does once connected: copies stdin to the server and the
 * server to stdout. On a terminal it runs the line editor; from a pipe it is
 * a transparent byte pipe (like nc) unless the server is a room, which it
 * recognises by the greeting and then speaks to in JSON events (RoomLink),
 * rendering them (View). It takes the user's name before anything is sent,
 * and on a terminal it reconnects when the link is lost (Reconnector).
 */
import type { ClientHandle } from "./client.ts";
import { ChatError, reason } from "./errors.ts";
import { CLOSE_GRACE_MS } from "./net/conn.ts";
import { colorEnabled, logger, StdoutWriter } from "./output.ts";
import { parseInput } from "./room/commands.ts";
import { type RoomEvent, RoomLink } from "./room-link.ts";
import { Probe } from "./session-probe.ts";
import { LineSplitter } from "./text/lines.ts";
import { decodeLine } from "./text/sanitize.ts";
import { completer } from "./tty/complete.ts";
import { LineEditor } from "./tty/editor.ts";
import { STAMP_WIDTH, View } from "./view.ts";

/** A room greets first; other servers are given this long (at least) to do so. */
export const GREETING_WAIT_MS = 300;
/** The longest greeting wait, however slow the link. */
const GREETING_WAIT_MAX_MS = 2000;
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
  /** Connect again when the link is lost (default: on a terminal). */
  reconnect?: boolean;
  bell?: boolean;
  timestamps?: boolean;
  /** Opens a new connection for a reconnect. */
  reopen?: () => Promise<ClientHandle>;
  /** `connected to …` and the like. */
  label?: string;
}

/**
 * How one connection ended: closed by the server, lost by an error, or with
 * an exit code decided already (a refused name, a TLS mismatch).
 */
type Ending = { kind: "closed" } | { kind: "error"; why: string } | { kind: "final"; code: number };

export class Session {
  private readonly out = new StdoutWriter();
  private readonly editor: LineEditor | null;
  private readonly view: View;
  private client: ClientHandle;
  private link: RoomLink | null = null;
  private lastId: string | undefined;
  private name: string | undefined;
  /** Input waits until the server is known (and in a room until our name is settled, from a pipe). */
  private held: Uint8Array[] | null = [];
  private inputDone = false;
  private leaving = false;
  /** The room said goodbye (`/quit`) or kicked us: no reconnect. */
  private final = false;
  private refused = false;
  private wake: (() => void) | null = null;

  constructor(
    client: ClientHandle,
    private readonly options: SessionOptions,
  ) {
    this.client = client;
    this.name = options.name || undefined;
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true && !options.json;
    const style = options.json ? "json" : interactive ? "tty" : "plain";
    const color = interactive && colorEnabled(process.stdout);
    this.view = new View((text, bell) => this.print(text, bell), {
      style,
      color,
      timestamps: interactive && options.timestamps !== false,
      bell: options.bell !== false,
    });
    this.editor = interactive
      ? new LineEditor(
          {
            line: (line) => this.typed(line),
            leave: () => this.leave(),
            complete: completer(() => this.link),
          },
          { indent: options.timestamps === false ? 2 : STAMP_WIDTH },
        )
      : null;
    if (!interactive) this.readStdin();
    this.out.onClosed = () => this.client.conn.destroy();
  }

  /** Runs until the user leaves or the server closes for good; resolves with the exit code. */
  async run(): Promise<number> {
    const reconnect = (this.options.reconnect ?? this.editor !== null) && this.options.reopen !== undefined;
    for (let first = true; ; first = false) {
      const ending = await this.attach(first);
      if (ending.kind === "final") return this.finish(ending.code);
      if (!reconnect || this.leaving || this.final) {
        return this.finish(ending.kind === "error" && !this.leaving ? this.lost(ending.why) : 0);
      }
      const next = await this.reconnect(ending.kind === "error" ? ending.why : "the server closed the connection");
      if (!next) return this.finish(0);
      this.client = next;
    }
  }

  private async finish(code: number): Promise<number> {
    this.editor?.close();
    await this.out.drained();
    if (code === 0 && !this.refused) logger.info("disconnected");
    return code;
  }

  private lost(why: string): number {
    if (this.out.isClosed) return 0;
    logger.error(why);
    return 1;
  }

  /** One connection, from its first byte to its close. */
  private async attach(first: boolean): Promise<Ending> {
    const client = this.client;
    this.link = null;
    this.held ??= [];
    const lines = new LineSplitter(DISPLAY_MAX_LINE, (line) => this.received(decodeLine(line)));
    const byteMode = this.view.options.style === "plain";
    const probe = new Probe((verdict, bytes, greeting) => {
      if (verdict === "room") this.joined(greeting ?? "", first);
      else this.release();
      if (verdict === "room" || !byteMode) lines.push(bytes);
      else if (!this.out.bytes(bytes)) this.backpressure();
    });
    client.onData((chunk) => {
      if (!probe.decided) probe.push(chunk);
      else if (this.link || !byteMode) lines.push(chunk);
      else if (!this.out.bytes(chunk)) this.backpressure();
    });
    this.waitForGreeting(first);
    const error = await client.closed;
    probe.end();
    lines.flush();
    if (this.refused) return { kind: "final", code: 1 };
    if (error instanceof ChatError) return { kind: "final", code: this.lost(error.message) };
    if (error) return { kind: "error", why: `connection lost: ${reason(error)}` };
    return { kind: "closed" };
  }

  /** Holds input until a room's greeting came or the wait is over (echo and oneway never greet). */
  private waitForGreeting(first: boolean): void {
    if (!this.name && first) {
      this.release();
      return;
    }
    const wait = first
      ? Math.min(GREETING_WAIT_MAX_MS, Math.max(GREETING_WAIT_MS, 4 * (this.options.connectMs ?? 0)))
      : GREETING_WAIT_MAX_MS;
    const timer = setTimeout(() => {
      if (!this.link) this.release();
    }, wait);
    this.client.closed.then(() => clearTimeout(timer));
  }

  /** The server is a room: ask for events, take our name, then let input flow. */
  private joined(greeting: string, first: boolean): void {
    if (first) this.view.event({ type: "notice", kind: "welcome", text: greeting.slice(2) }, "");
    const link = new RoomLink(
      greeting,
      {
        send: (line) => this.client.send(`${line}\n`),
        event: (event) => this.roomEvent(event),
        settled: () => this.nameOrRelease(link),
      },
      this.lastId,
    );
    this.link = link;
  }

  private nameOrRelease(link: RoomLink): void {
    const name = this.name;
    if (name && name.toLowerCase() !== link.me.toLowerCase()) {
      this.client.send(`/nick ${name}\n`);
      // From a pipe, nothing is sent until the room has said yes to the name.
      if (!this.editor) return;
    }
    this.release();
  }

  private roomEvent(event: RoomEvent): void {
    const link = this.link;
    if (!link) return;
    if (event.id) this.lastId = event.id;
    if (event.type === "ready") this.introduce(event);
    if (event.code === "kicked" || event.kind === "bye") this.final = true;
    if (this.held && this.name && !this.editor) this.checkName(event, link, this.name);
    // Replayed lines come before the room has our name back (we arrive as a guest): look for the name we are taking.
    this.view.event(event, event.history && this.name ? this.name : link.me);
  }

  /** Before replayed lines: what they are. */
  private introduce(ready: RoomEvent): void {
    const count = ready.replay ?? 0;
    const missed = this.lastId !== undefined;
    if (missed && ready.complete === false) this.view.note("some lines said while you were away are no longer held");
    if (count > 0) this.view.note(missed ? `${count} said while you were away` : `${count} earlier ${count === 1 ? "line" : "lines"}`);
  }

  /** From a pipe: the name is ours (input flows) or refused (nothing is sent; exit 1). */
  private checkName(event: RoomEvent, link: RoomLink, name: string): void {
    if (link.me.toLowerCase() === name.toLowerCase()) {
      this.release();
    } else if (event.type === "error" && (event.code?.startsWith("name-") || link.format === "text")) {
      this.refused = true;
      this.held = [];
      logger.error(`name ${name} is taken`);
      this.client.conn.end(CLOSE_GRACE_MS);
    }
  }

  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    for (const chunk of held) this.client.send(chunk);
    if (this.inputDone) this.client.finish();
  }

  private send(bytes: Uint8Array): void {
    if (this.held) this.held.push(bytes);
    else this.client.send(bytes);
  }

  private readStdin(): void {
    const stdin = process.stdin;
    stdin.on("data", (chunk: Buffer) => {
      this.send(chunk);
      if (this.client.conn.queued > INPUT_HIGH_WATER) {
        stdin.pause();
        this.client.conn.onDrain = () => {
          if (this.client.conn.queued <= INPUT_HIGH_WATER / 4) stdin.resume();
        };
      }
    });
    const done = () => {
      this.inputDone = true;
      if (!this.held) this.client.finish();
    };
    stdin.on("end", done);
    stdin.on("error", done);
  }

  private typed(line: string): void {
    if (this.wake || this.client.conn.isGone) {
      // Not connected: the line stays in the draft until the link is back.
      this.editor?.setDraft(line);
      this.view.note("not connected yet; your line is kept");
      return;
    }
    this.send(Buffer.from(`${line}\n`));
    const link = this.link;
    if (!link) {
      if (line !== "") this.view.line(line);
      return;
    }
    // The room does not send our own lines back: show them as the room reads them.
    const input = parseInput(line);
    if (input.kind === "me") {
      this.roomEvent({ type: "notice", kind: "action", from: link.me, text: `${link.me} ${input.text}` });
    } else if (input.kind === "say" && input.text.trim() !== "") {
      this.roomEvent({ type: "message", from: link.me, text: input.text });
    }
  }

  /** Ctrl+D or Ctrl+C on an empty line: half-close and let the server finish (or stop waiting). */
  private leave(): void {
    this.leaving = true;
    if (this.wake) this.wake();
    else this.client.conn.end(CLOSE_GRACE_MS);
  }

  private received(line: string): void {
    if (this.link) this.link.line(line);
    else this.view.line(line);
  }

  private print(text: string, bell: boolean): void {
    if (this.editor) this.editor.print(text, bell);
    else this.out.text(text);
  }

  /** stdout (a pipe) is full: stop reading from the server until it drains. */
  private backpressure(): void {
    this.client.conn.pause();
    process.stdout.once("drain", () => this.client.conn.resume());
  }

  /** Tries again with backoff until connected or the user leaves; null when they left. */
  private async reconnect(why: string): Promise<ClientHandle | null> {
    const reopen = this.options.reopen;
    if (!reopen) return null;
    this.name = this.link && !/^guest-\d+$/.test(this.link.me) ? this.link.me : this.name;
    this.status(`${why}; reconnecting`);
    for (let attempt = 0; !this.leaving; attempt++) {
      await this.pause(backoff(attempt));
      if (this.leaving) break;
      try {
        const client = await reopen();
        this.status(`reconnected to ${client.label}`);
        return client;
      } catch (error) {
        logger.debug(`reconnect: ${reason(error)}`);
      }
    }
    return null;
  }

  /** Waits `ms`, or less when the user leaves meanwhile. */
  private async pause(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, ms);
    this.wake = () => {
      clearTimeout(timer);
      resolve();
    };
    await promise;
    this.wake = null;
  }

  private status(text: string): void {
    if (this.editor) this.view.note(text);
    else logger.info(text);
  }
}

/** Reconnect delays: 0.25 s doubling to 5 s, each within ±20 % so clients of one server spread out. */
export function backoff(attempt: number): number {
  const base = Math.min(5000, 250 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
