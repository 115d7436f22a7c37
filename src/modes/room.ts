/**
 * twoway: a room. Every connection is a participant and so is the server's
 * console. Lines are relayed as `NAME: TEXT`, one prefix per line; notices
 * start with `* `, errors to one participant with `! `. A connection may ask
 * for its events as JSON instead (docs/events.md). Slow receivers: see
 * room-flow.ts.
 */
import { type ChatEvent, eventLine } from "../events.ts";
import type { Conn } from "../net/conn.ts";
import { RECENT_MIN_LINES, RecentLines } from "../room/recent.ts";
import { eventsReply, wireJson, writePlainLinesJson } from "../room/wire.ts";
import { decodeLine, isPlain, type LinePrefix, linePrefix } from "../text/sanitize.ts";
import { formatDuration } from "../text/units.ts";
import { Fanout, type FanoutBatch } from "./fanout.ts";
import { LineInput } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";
import { handleInput } from "./room-commands.ts";
import { RoomFlow } from "./room-flow.ts";

export { ROOM_HIGH_WATER, STALL_MS } from "./room-flow.ts";

/** A newcomer's join is announced after its first line or this long after connecting, so a client's `/nick` comes first. */
export const JOIN_GRACE_MS = 400;
/** A JSON replay takes at most this share of `--max-queue`: the lines said meanwhile need room too. */
const REPLAY_QUEUE_SHARE = 0.5;

export interface Participant {
  name: string;
  /** `NAME: `, the start of each line this participant says. */
  prefix: LinePrefix;
  /** null for the server's console. */
  conn: Conn | null;
  peer: string;
  announced: boolean;
  joinTimer: Timer | null;
  input: LineInput | null;
  /** Tells the room's lines apart by who said them (the console is 0). */
  serial: number;
  /** Takes JSON events (`/events json`). */
  json: boolean;
  /** Room lines numbered above this were sent to it as plain text (since it connected, or last asked for text). */
  textFrom: number;
}

const encoder = new TextEncoder();
const NO_PREFIX = linePrefix("");
const SLASH = 0x2f;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * A line to relay as it is, with no decoding: all plain (see isPlain), not a
 * command, not blank. Most chat is; the rest takes the text path.
 */
function plainSaying(bytes: Uint8Array, start: number, end: number): boolean {
  if (start === end || bytes[start] === SLASH || !isPlain(bytes, start, end)) return false;
  for (let i = start; i < end; i++) if (bytes[i] !== SPACE && bytes[i] !== TAB) return true;
  return false;
}

export class Room implements Mode<Participant> {
  readonly members = new Map<string, Participant>();
  readonly console: Participant;
  /** The room lines kept: history for newcomers and replays for JSON clients. */
  private readonly recent: RecentLines;
  /** `{"id":"START-`, the start of each room line's JSON. */
  private readonly idHead: Uint8Array;
  /** Broadcast lines gathered per audience: one send per member per batch (see Fanout). */
  private readonly fanout = new Fanout<Participant>((batch) => this.deliver(batch));
  private readonly flow: RoomFlow;
  private guests = 0;
  private serials = 0;
  private jsonMembers = 0;

  constructor(
    readonly ctx: ModeContext,
    readonly stop: () => void = () => {},
  ) {
    this.flow = new RoomFlow(this.members, ctx.maxQueue, () => this.fanout.flush());
    this.recent = new RecentLines(Date.now(), Math.max(ctx.history, RECENT_MIN_LINES));
    this.idHead = encoder.encode(`{"id":"${this.recent.start}-`);
    this.console = {
      name: ctx.name,
      prefix: NO_PREFIX,
      conn: null,
      peer: "console",
      announced: true,
      joinTimer: null,
      input: null,
      serial: 0,
      json: false,
      textFrom: 0,
    };
    this.named(this.console);
    this.members.set(ctx.name.toLowerCase(), this.console);
  }

  open(conn: Conn): Participant {
    // Lines broadcast before this member joined are not for it.
    this.fanout.flush();
    const p: Participant = {
      name: this.guestName(),
      prefix: NO_PREFIX,
      conn,
      peer: conn.peer,
      announced: false,
      joinTimer: null,
      input: null,
      serial: ++this.serials,
      json: false,
      textFrom: this.recent.last,
    };
    this.named(p);
    p.input = new LineInput(
      this.ctx.maxLine,
      (bytes, start, end, cut) => this.received(p, bytes, start, end, cut),
      () => this.flow.paused,
      // Plain lines relayed many at a time need a printer of bytes: events are made per line.
      this.ctx.output.relayed ? (bytes, start, end) => this.receivedPlain(p, bytes, start, end) : undefined,
    );
    conn.onDrain = () => this.flow.drained(p);
    this.members.set(p.name.toLowerCase(), p);
    const others = this.members.size - 1;
    this.tell(p, {
      type: "notice",
      kind: "welcome",
      text: `welcome, you are ${p.name} (${others} ${others === 1 ? "other" : "others"} here; /nick NAME to rename, /help for commands)`,
    });
    // One send for the whole history: each send may be a write of its own.
    const history = this.ctx.history > 0 ? this.recent.tail(this.ctx.history) : null;
    if (history) conn.send(history);
    p.joinTimer = setTimeout(() => this.announce(p), JOIN_GRACE_MS);
    if (this.flow.paused) conn.pause("room");
    return p;
  }

  data(p: Participant, chunk: Uint8Array): void {
    p.input?.push(chunk);
    this.fanout.flush();
  }

  end(p: Participant): void {
    p.input?.finish();
    this.fanout.flush();
    const conn = p.conn;
    if (conn?.isOpen) {
      conn.leaveReason ??= "quit";
      conn.end();
    }
  }

  close(p: Participant): void {
    if (p.joinTimer) clearTimeout(p.joinTimer);
    if (this.members.get(p.name.toLowerCase()) === p) this.members.delete(p.name.toLowerCase());
    this.flow.forget(p);
    this.takesJson(p, false);
    if (p.announced) {
      this.broadcast({ type: "leave", name: p.name, peer: p.peer, reason: p.conn?.leaveReason ?? "closed" }, p);
    }
    this.fanout.flush();
  }

  refuse(conn: Conn, why: string): void {
    conn.send(encoder.encode(`! ${why}\n`));
    conn.end();
  }

  expire(p: Participant, idleText: string): void {
    this.tell(p, { type: "error", code: "timed-out", text: `no input for ${idleText}, disconnecting` });
    if (!p.conn) return;
    p.conn.leaveReason = "timed out";
    p.conn.end();
  }

  tick(now: number): void {
    this.flow.tick(now);
  }

  shutdown(): void {
    this.broadcast({ type: "notice", kind: "shutdown", text: "server shutting down" });
    // The server closes every connection next: the notice must be queued first.
    this.fanout.flush();
  }

  say(line: string): void {
    handleInput(this, this.console, line);
    this.fanout.flush();
  }

  /** Sends an event to everyone but `except` (who said it, for a room line); the console always sees it. */
  broadcast(event: ChatEvent, except?: Participant): void {
    const line = `${eventLine(event)}\n`;
    let json: string | undefined;
    if (event.type === "message" || event.type === "action") {
      const ts = Date.now();
      const bytes = encoder.encode(line);
      const seq = this.recent.add(bytes, 0, bytes.length, 1, except?.serial ?? 0, ts);
      if (this.fanout.json) json = `${wireJson(event, ts, this.recent.id(seq))}\n`;
    } else if (this.fanout.json) json = `${wireJson(event, Date.now())}\n`;
    this.fanout.add(line, except, json);
    this.ctx.output.event(event);
  }

  /** A batch of broadcast lines, one shared chunk, to every open member but `except`. */
  private deliver(batch: FanoutBatch<Participant>): void {
    for (const m of this.members.values()) {
      if (!m.conn?.isOpen) continue;
      const bytes = m.json ? batch.forJson(m) : batch.for(m);
      if (!bytes) continue;
      m.conn.send(bytes);
      this.flow.watch(m);
    }
  }

  tell(p: Participant, event: ChatEvent): void {
    // Broadcast lines before this one reach `p` first.
    this.fanout.flush();
    if (!p.conn) {
      this.ctx.output.event(event);
      return;
    }
    p.conn.send(encoder.encode(p.json ? `${wireJson(event, Date.now())}\n` : `${eventLine(event)}\n`));
    this.flow.watch(p);
  }

  /**
   * `/events json [after=ID]` or `/events text` (docs/events.md). What was
   * queued for `p` goes out in the format it had; JSON starts with the
   * `ready` object and the lines replayed.
   */
  events(p: Participant, format: "json" | "text", after?: string): void {
    if (!p.conn) {
      this.tell(p, { type: "error", text: "/events is for connections" });
      return;
    }
    this.fanout.flush();
    if (format === "text") {
      if (p.json) p.textFrom = this.recent.last;
      this.takesJson(p, false);
      return;
    }
    const replay = this.recent.replay(after, this.ctx.history, p.textFrom, p.serial);
    this.takesJson(p, true);
    // Asked again later, the window starts here: what follows is sent as JSON.
    p.textFrom = this.recent.last;
    const reply = eventsReply(
      Date.now(),
      p.name,
      this.names(),
      replay,
      (seq) => this.recent.id(seq),
      this.ctx.maxQueue * REPLAY_QUEUE_SHARE,
    );
    p.conn.send(encoder.encode(reply));
    this.flow.watch(p);
  }

  private takesJson(p: Participant, json: boolean): void {
    if (p.json === json) return;
    p.json = json;
    this.jsonMembers += json ? 1 : -1;
    this.fanout.setJson(this.jsonMembers > 0);
  }

  /** Every name in the room, sorted. */
  names(): string[] {
    return [...this.members.values()].map((m) => m.name).sort((a, b) => a.localeCompare(b));
  }

  /** Announces a newcomer once: after its first line, or when the grace period ends. */
  announce(p: Participant): void {
    if (p.announced || !p.conn?.isOpen) return;
    p.announced = true;
    if (p.joinTimer) clearTimeout(p.joinTimer);
    p.joinTimer = null;
    // Not flushed here: joins whose timers fire together go out as one batch.
    this.broadcast({ type: "join", name: p.name, peer: p.peer }, p);
  }

  find(name: string): Participant | undefined {
    return this.members.get(name.toLowerCase());
  }

  rename(p: Participant, name: string): void {
    this.members.delete(p.name.toLowerCase());
    p.name = name;
    this.named(p);
    this.members.set(name.toLowerCase(), p);
  }

  private named(p: Participant): void {
    p.prefix = linePrefix(`${p.name}: `);
  }

  idleText(ms: number): string {
    return formatDuration(ms);
  }

  /**
   * A line a participant sent, `bytes[start, end)`. A plain one is relayed
   * and printed straight from its bytes: the same lines as the text path
   * (`say`), without a string made, parsed and encoded again per line.
   */
  private received(p: Participant, bytes: Uint8Array, start: number, end: number, cut: boolean): void {
    if (cut) this.tell(p, { type: "error", code: "line-cut", text: `line too long: cut at ${this.ctx.maxLine} bytes` });
    if (!plainSaying(bytes, start, end)) {
      handleInput(this, p, decodeLine(bytes.subarray(start, end)));
      return;
    }
    this.announce(p);
    this.fanout.addLine(p.prefix.bytes, bytes, start, end, p, this.relayed);
    if (!this.ctx.output.relayed) this.ctx.output.event({ type: "message", from: p.name, text: decodeLine(bytes.subarray(start, end)) });
  }

  /**
   * The plain lines said at the start of `bytes[start, end)`, relayed,
   * printed and kept all at once (see Fanout.addPlainLines); returns where
   * it stopped. A newcomer's first line takes the way above: it announces
   * the newcomer first.
   */
  private receivedPlain(p: Participant, bytes: Uint8Array, start: number, end: number): number {
    if (!p.announced) return start;
    return this.fanout.addPlainLines(p.prefix, bytes, start, end, this.ctx.maxLine, p, this.relayed);
  }

  /**
   * Plain lines as relayed (`NAME: TEXT\n` each, one or many): printed and
   * kept straight from those bytes, and written as JSON for the members
   * that take it.
   */
  private readonly relayed = (bytes: Uint8Array, start: number, end: number, lines: number, p: Participant): void => {
    this.ctx.output.relayed?.(bytes, start, end);
    const ts = Date.now();
    const seq = this.recent.add(bytes, start, end, lines, p.serial, ts);
    const json = this.fanout.json;
    if (!json) return;
    const at = json.used;
    const wrote = writePlainLinesJson(json, this.idHead, bytes, start, end, lines, p.prefix.bytes.length, seq, ts, p.name);
    json.added(at, wrote, p);
  };

  private guestName(): string {
    let name: string;
    do name = `guest-${++this.guests}`;
    while (this.members.has(name));
    return name;
  }
}
