/**
 * twoway: a room. Every connection is a participant and so is the server's
 * console. Lines are relayed as `NAME: TEXT`, one prefix per line; notices
 * start with `* `, errors to one participant with `! `.
 *
 * Flow control: when a receiver has more than ROOM_HIGH_WATER bytes waiting,
 * the room stops reading from every client (TCP back-pressure on senders),
 * and stops relaying the rest of a read already taken (see LineInput), until
 * it drains below ROOM_LOW_WATER. So a fast sender is slowed, not cut, and
 * every reader gets every line.
 *
 * A receiver that takes nothing for STALL_MS while holding the room up is
 * stalled: the room stops waiting for it and goes on. Its queue keeps growing
 * (it loses nothing if it reads again in time: it then holds the room again),
 * and when the queue passes `maxQueue` it is dropped as too slow. So one
 * stalled reader delays the others once, by STALL_MS plus at most one tick.
 */
import { type ChatEvent, eventLine } from "../events.ts";
import type { Conn } from "../net/conn.ts";
import { copyOf } from "../text/bytes.ts";
import { decodeLine, isPlain, type LinePrefix, linePrefix } from "../text/sanitize.ts";
import { formatDuration } from "../text/units.ts";
import { Fanout, type FanoutBatch } from "./fanout.ts";
import { LineInput } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";
import { handleInput } from "./room-commands.ts";

/** A newcomer's join is announced after its first line or this long after connecting, so a client's `/nick` comes first. */
export const JOIN_GRACE_MS = 400;
export const ROOM_HIGH_WATER = 256 * 1024;
const ROOM_LOW_WATER = 64 * 1024;
/**
 * How long a congested receiver may take nothing before the room stops waiting
 * for it: long enough for a reader that is merely slower than the sender (the
 * kernel takes more each time a third of its send buffer frees up, every few
 * milliseconds on loopback or a LAN), short enough that a stalled one holds
 * the room up only for a moment.
 */
export const STALL_MS = 500;

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
}

const encoder = new TextEncoder();
const NO_PREFIX = linePrefix("");
const LF = 0x0a;
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

export class Room implements Mode {
  readonly members = new Map<string, Participant>();
  readonly console: Participant;
  private readonly history: Uint8Array[] = [];
  /** Broadcast lines gathered per audience: one send per member per batch (see Fanout). */
  private readonly fanout = new Fanout<Participant>((batch) => this.deliver(batch));
  /** Receivers over the high-water mark that the room waits for. */
  private readonly congested = new Set<Participant>();
  /** Receivers over the high-water mark that stopped reading: the room does not wait. */
  private readonly stalled = new Set<Participant>();
  private guests = 0;
  private paused = false;
  private releasing = false;

  constructor(
    readonly ctx: ModeContext,
    readonly stop: () => void = () => {},
  ) {
    this.console = {
      name: ctx.name,
      prefix: NO_PREFIX,
      conn: null,
      peer: "console",
      announced: true,
      joinTimer: null,
      input: null,
    };
    this.named(this.console);
    this.members.set(ctx.name.toLowerCase(), this.console);
  }

  open(conn: Conn): void {
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
    };
    this.named(p);
    p.input = new LineInput(
      this.ctx.maxLine,
      (bytes, start, end, cut) => this.received(p, bytes, start, end, cut),
      () => this.paused,
      // Plain lines relayed many at a time need a printer of bytes: events are made per line.
      this.ctx.relayWriter ? (bytes, start, end) => this.receivedPlain(p, bytes, start, end) : undefined,
    );
    conn.state = p;
    conn.onDrain = () => this.drained(p);
    this.members.set(p.name.toLowerCase(), p);
    const others = this.members.size - 1;
    this.tell(p, {
      type: "notice",
      text: `welcome, you are ${p.name} (${others} ${others === 1 ? "other" : "others"} here; /nick NAME to rename, /help for commands)`,
    });
    // One send for the whole history: each send may be a write of its own.
    if (this.history.length > 0) conn.send(Buffer.concat(this.history));
    p.joinTimer = setTimeout(() => this.announce(p), JOIN_GRACE_MS);
    if (this.paused) conn.pause("room");
  }

  data(conn: Conn, chunk: Uint8Array): void {
    (conn.state as Participant).input?.push(chunk);
    this.fanout.flush();
  }

  end(conn: Conn): void {
    const p = conn.state as Participant;
    p.input?.finish();
    this.fanout.flush();
    if (conn.isOpen) {
      conn.leaveReason ??= "quit";
      conn.end();
    }
  }

  close(conn: Conn): void {
    const p = conn.state as Participant;
    if (p.joinTimer) clearTimeout(p.joinTimer);
    if (this.members.get(p.name.toLowerCase()) === p) this.members.delete(p.name.toLowerCase());
    this.uncongest(p);
    this.stalled.delete(p);
    if (p.announced) {
      this.broadcast({ type: "leave", name: p.name, peer: p.peer, reason: conn.leaveReason ?? "closed" }, p);
    }
    this.fanout.flush();
  }

  refuse(conn: Conn, why: string): void {
    conn.send(encoder.encode(`! ${why}\n`));
    conn.end();
  }

  expire(conn: Conn, idleText: string): void {
    this.tell(conn.state as Participant, { type: "error", text: `no input for ${idleText}, disconnecting` });
    conn.leaveReason = "timed out";
    conn.end();
  }

  tick(now: number): void {
    for (const p of this.congested) {
      if (p.conn && now - p.conn.lastProgress > STALL_MS) {
        this.uncongest(p);
        this.stalled.add(p);
      }
    }
  }

  shutdown(): void {
    this.broadcast({ type: "notice", text: "server shutting down" });
    // The server closes every connection next: the notice must be queued first.
    this.fanout.flush();
  }

  say(line: string): void {
    handleInput(this, this.console, line);
    this.fanout.flush();
  }

  /** Sends an event to everyone but `except`; the console always sees it. */
  broadcast(event: ChatEvent, except?: Participant): void {
    const line = `${eventLine(event)}\n`;
    this.fanout.add(line, except);
    this.ctx.emit(event);
    if ((event.type === "message" || event.type === "action") && this.ctx.history > 0) this.remember(encoder.encode(line));
  }

  private remember(line: Uint8Array): void {
    this.history.push(line);
    if (this.history.length > this.ctx.history) this.history.shift();
  }

  /** A batch of broadcast lines, one shared chunk, to every open member but `except`. */
  private deliver(batch: FanoutBatch<Participant>): void {
    for (const m of this.members.values()) {
      if (!m.conn?.isOpen) continue;
      const bytes = batch.for(m);
      if (!bytes) continue;
      m.conn.send(bytes);
      this.watch(m);
    }
  }

  tell(p: Participant, event: ChatEvent): void {
    // Broadcast lines before this one reach `p` first.
    this.fanout.flush();
    if (!p.conn) {
      this.ctx.emit(event);
      return;
    }
    p.conn.send(encoder.encode(`${eventLine(event)}\n`));
    this.watch(p);
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
    if (cut) this.tell(p, { type: "error", text: `line too long: cut at ${this.ctx.maxLine} bytes` });
    if (!plainSaying(bytes, start, end)) {
      handleInput(this, p, decodeLine(bytes.subarray(start, end)));
      return;
    }
    this.announce(p);
    this.fanout.addLine(p.prefix.bytes, bytes, start, end, p, this.relayed);
    if (!this.ctx.relayWriter) this.ctx.emit({ type: "message", from: p.name, text: decodeLine(bytes.subarray(start, end)) });
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
   * kept for newcomers straight from those bytes, the last `history` of them.
   */
  private readonly relayed = (bytes: Uint8Array, start: number, end: number): void => {
    this.ctx.relayWriter?.(bytes, start, end);
    const keep = this.ctx.history;
    if (keep === 0) return;
    // Where the last `keep` lines start, found from the end: earlier ones would only be shifted out.
    let first = end;
    for (let kept = 0; kept < keep && first > start; kept++) {
      // Not before `start`: a negative position would count from the end.
      const lf = first - 2 >= start ? bytes.lastIndexOf(LF, first - 2) : -1;
      first = lf < start ? start : lf + 1;
    }
    for (let at = first; at < end; ) {
      const next = bytes.indexOf(LF, at) + 1 || end;
      this.remember(copyOf(bytes, at, next));
      at = next;
    }
  };

  private guestName(): string {
    let name: string;
    do name = `guest-${++this.guests}`;
    while (this.members.has(name));
    return name;
  }

  /** After queueing for `p`: drop it past `maxQueue`, or make the room wait for it. */
  private watch(p: Participant): void {
    const conn = p.conn;
    if (!conn || conn.queued <= ROOM_HIGH_WATER) return;
    if (conn.queued > this.ctx.maxQueue) {
      this.drop(p);
      return;
    }
    if (!this.stalled.has(p)) this.congest(p);
  }

  private congest(p: Participant): void {
    if (this.congested.has(p)) return;
    this.congested.add(p);
    if (!this.paused) {
      this.paused = true;
      for (const m of this.members.values()) m.conn?.pause("room");
    }
  }

  /** `p`'s queue shrank: a stalled receiver reads again, a congested one may be done. */
  private drained(p: Participant): void {
    const queued = p.conn?.queued ?? 0;
    if (this.stalled.delete(p)) {
      if (queued > ROOM_HIGH_WATER) this.congest(p);
    } else if (this.congested.has(p) && queued <= ROOM_LOW_WATER) this.uncongest(p);
  }

  private uncongest(p: Participant): void {
    if (!this.congested.delete(p) || this.congested.size > 0 || !this.paused) return;
    this.paused = false;
    this.release();
  }

  /**
   * The room flows again: each member's lines held back mid-read go out
   * first, then its socket is read again; a line that congests the room again
   * stops this, and the members not reached stay paused until next time.
   */
  private release(): void {
    if (this.releasing) return;
    this.releasing = true;
    for (const m of this.members.values()) {
      if (this.paused) break;
      const done = m.input?.release() !== false;
      // Sending what it released may congest the room again (watch runs per batch).
      this.fanout.flush();
      if (done && !this.paused) m.conn?.resume("room");
    }
    this.releasing = false;
  }

  private drop(p: Participant): void {
    if (!p.conn || p.conn.isGone) return;
    p.conn.leaveReason = "too slow";
    this.uncongest(p);
    this.stalled.delete(p);
    p.conn.destroy();
  }
}
