/**
 * What `chat connect` does once connected: copies stdin to the server and the
 * server to stdout. On a terminal it runs the line editor; from a pipe it is
 * a transparent byte pipe (like nc) unless the server is a room, which it
 * recognises by the greeting and then speaks to in JSON events (RoomLink),
 * rendering them (View). It takes the user's name before anything is sent,
 * and on a terminal it reconnects when the link is lost (Retry).
 */
import type { ClientHandle } from "./client.ts";
import { DISPLAY_MAX_LINE } from "./defaults.ts";
import { ChatError, reason } from "./errors.ts";
import { InputGate } from "./input-gate.ts";
import { logger } from "./output.ts";
import { Retry } from "./retry.ts";
import { nameKey, roomProblem } from "./room/names.ts";
import { type RoomEvent, RoomLink, SeenLines } from "./room-link.ts";
import { greetingWait, Probe } from "./session-probe.ts";
import { StdoutWriter } from "./stdout.ts";
import { LineSplitter } from "./text/lines.ts";
import { decodeLine } from "./text/sanitize.ts";
import { completer } from "./tty/complete.ts";
import { LineEditor } from "./tty/editor.ts";
import { STAMP_WIDTH, View, viewOptions } from "./view.ts";

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
}

/** How one connection ended: closed by the server, lost, or with its exit code decided (a refused name, TLS). */
type Ending = { kind: "closed" } | { kind: "error"; why: string } | { kind: "final"; code: number };

export class Session {
  private readonly out = new StdoutWriter();
  private readonly editor: LineEditor | null;
  private readonly view: View;
  private link: RoomLink | null = null;
  private lastId: string | undefined;
  private readonly seen = new SeenLines();
  private name: string | undefined;
  /** Input waits until the server is known (and in a room until our name is settled, from a pipe). */
  private readonly input = new InputGate(() => this.client);
  private leaving = false;
  /** The room said goodbye (`/quit`) or kicked us: no reconnect. */
  private final = false;
  private refused = false;
  private readonly retry = new Retry();
  /** This connection got as far as talking (a room's answer, or a server's bytes or silence). */
  private linked = false;
  private firstAttach = true;
  /** The room this connection moved to (`/join`), joined again on a reconnect; undefined before any move. */
  private room: string | undefined;

  constructor(
    private client: ClientHandle,
    private readonly options: SessionOptions,
  ) {
    this.name = options.name || undefined;
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true && !options.json;
    this.view = new View((text, bell) => this.print(text, bell), viewOptions(options, interactive));
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
    if (!interactive) this.input.readStdin();
    this.out.onClosed = () => this.client.destroy();
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
      // Said once per loss: attempts that are let in and dropped at once are retried quietly.
      if (this.linked || first) {
        this.status(`${ending.kind === "error" ? ending.why : "the server closed the connection"}; reconnecting`);
        this.retry.reset();
      }
      const next = await this.reconnect();
      if (!next) return this.finish(0);
      this.client = next;
    }
  }

  private async finish(code: number): Promise<number> {
    this.editor?.close();
    this.input.close();
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
    this.linked = false;
    this.firstAttach = first;
    this.input.hold();
    const lines = new LineSplitter(DISPLAY_MAX_LINE, (line) => this.received(decodeLine(line)));
    const byteMode = this.view.options.style === "plain";
    const probe = new Probe((verdict, bytes, greeting) => {
      if (verdict === "room") this.joined(greeting ?? "", first);
      else {
        // Bytes that are not a greeting: a server that is up. None: the connection just closed.
        if (bytes.length > 0) this.up(first);
        this.input.release();
      }
      if (verdict === "room" || !byteMode) lines.push(bytes);
      else if (!this.out.bytes(bytes)) this.backpressure();
    });
    let heard = false;
    client.onData((chunk) => {
      heard = true;
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
    // A TLS server given fewer than a record header's 5 bytes resets without a word (it has no record to answer).
    const hint = heard ? "" : " (nothing was received: if the server speaks TLS, use --tls)";
    if (error) return { kind: "error", why: `connection lost: ${reason(error)}${hint}` };
    return { kind: "closed" };
  }

  /** Holds input until a room's greeting came or the wait is over (echo and oneway never greet). */
  private waitForGreeting(first: boolean): void {
    if (!this.name && first) {
      this.input.release();
      return;
    }
    const wait = greetingWait(first ? (this.options.connectMs ?? 0) : null);
    const timer = setTimeout(() => {
      if (this.link) return;
      // A server that stays silent this long is not a room, and it is up.
      this.up(first);
      this.input.release();
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
        settled: (format) => {
          // A room with JSON events is up at its `ready` (roomEvent); one without, now.
          if (format === "text") this.up(first);
          this.nameOrRelease(link);
        },
      },
      this.lastId,
      this.seen,
      first ? undefined : this.room,
    );
    this.link = link;
  }

  private nameOrRelease(link: RoomLink): void {
    const name = this.name;
    if (name && nameKey(name) !== nameKey(link.me)) {
      this.client.send(`/nick ${name}\n`);
      // From a pipe, nothing is sent until the room has said yes to the name.
      if (!this.editor) return;
    }
    this.input.release();
  }

  private roomEvent(event: RoomEvent): void {
    const link = this.link;
    if (!link) return;
    if (event.id) this.lastId = event.id;
    if (event.kind === "room" && event.room && !roomProblem(event.room)) this.room = event.room; // sent back: well-formed only
    if (event.type === "ready") {
      this.up(this.firstAttach);
      this.view.replayed(event, this.lastId !== undefined);
    }
    // Sent away on purpose (kicked, idle, /quit): coming back on our own would undo it.
    if (event.code === "kicked" || event.code === "banned" || event.code === "timed-out" || event.kind === "bye") this.final = true;
    if (this.input.holding && this.name && !this.editor) this.checkName(event, link, this.name);
    // Replayed lines come before the room has our name back (we arrive as a guest): look for the name we are taking.
    this.view.event(event, event.history && this.name ? this.name : link.me);
  }

  /** From a pipe: the name is ours (input flows) or refused (nothing is sent; exit 1). */
  private checkName(event: RoomEvent, link: RoomLink, name: string): void {
    if (nameKey(link.me) === nameKey(name)) {
      this.input.release();
    } else if (event.type === "error" && (event.code?.startsWith("name-") || link.format === "text")) {
      this.refused = true;
      this.input.discard();
      logger.error(event.code === "name-banned" ? event.text : `name ${name} is taken`);
      this.client.end();
    }
  }

  private typed(line: string): void {
    if (this.retry.waiting || this.client.isGone) {
      // Not connected: the line stays in the draft until the link is back.
      this.editor?.setDraft(line);
      this.view.note("not connected yet; your line is kept");
      return;
    }
    this.input.send(Buffer.from(`${line}\n`));
    const link = this.link;
    if (!link) {
      if (line !== "") this.view.line(line);
      return;
    }
    const own = link.own(line);
    if (own) this.roomEvent(own);
  }

  /** Ctrl+D or Ctrl+C on an empty line: half-close and let the server finish (or stop waiting). */
  private leave(): void {
    this.leaving = true;
    if (this.retry.waiting) this.retry.interrupt();
    else this.client.end();
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
    this.client.pause();
    process.stdout.once("drain", () => this.client.resume());
  }

  /** Tries again with backoff until connected or the user leaves; null when they left. */
  private async reconnect(): Promise<ClientHandle | null> {
    const reopen = this.options.reopen;
    if (!reopen) return null;
    this.name = this.link && !/^guest-\d+$/.test(this.link.me) ? this.link.me : this.name;
    while (!this.leaving) {
      await this.retry.wait();
      if (this.leaving) break;
      try {
        return await reopen();
      } catch (error) {
        logger.debug(`reconnect: ${reason(error)}`);
      }
    }
    return null;
  }

  /** The connection got as far as talking; after a reconnect, say so. */
  private up(first: boolean): void {
    if (this.linked) return;
    this.linked = true;
    if (!first) this.status(`reconnected to ${this.client.label}`);
  }

  private status(text: string): void {
    if (this.editor) this.view.note(text);
    else logger.info(text);
  }
}
