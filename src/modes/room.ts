/**
 * twoway: a room. Every connection is a participant and so is the server's
 * console. Lines are relayed as `NAME: TEXT`, one prefix per line; notices
 * start with `* `, errors to one participant with `! `.
 *
 * Flow control: when a receiver has more than ROOM_HIGH_WATER bytes waiting,
 * the room stops reading from every client (TCP back-pressure on senders)
 * until it drains below ROOM_LOW_WATER, so a fast sender is slowed, not cut.
 * A receiver that makes no progress for SLOW_CONSUMER_MS while holding the
 * room up, or whose queue passes `maxQueue`, is dropped as too slow.
 */
import { type ChatEvent, eventLine } from "../events.ts";
import type { Conn } from "../net/conn.ts";
import { formatDuration } from "../text/units.ts";
import { TextInput } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";
import { handleInput } from "./room-commands.ts";

/** A newcomer's join is announced after its first line or this long after connecting, so a client's `/nick` comes first. */
export const JOIN_GRACE_MS = 400;
export const ROOM_HIGH_WATER = 256 * 1024;
const ROOM_LOW_WATER = 64 * 1024;
export const SLOW_CONSUMER_MS = 2000;

export interface Participant {
  name: string;
  /** null for the server's console. */
  conn: Conn | null;
  peer: string;
  announced: boolean;
  joinTimer: Timer | null;
  input: TextInput | null;
}

const encoder = new TextEncoder();

export class Room implements Mode {
  readonly members = new Map<string, Participant>();
  readonly console: Participant;
  private readonly history: Uint8Array[] = [];
  private readonly congested = new Set<Participant>();
  private guests = 0;
  private paused = false;

  constructor(
    readonly ctx: ModeContext,
    readonly stop: () => void = () => {},
  ) {
    this.console = { name: ctx.name, conn: null, peer: "console", announced: true, joinTimer: null, input: null };
    this.members.set(ctx.name.toLowerCase(), this.console);
  }

  open(conn: Conn): void {
    const p: Participant = { name: this.guestName(), conn, peer: conn.peer, announced: false, joinTimer: null, input: null };
    p.input = new TextInput(this.ctx.maxLine, (text, cut) => this.line(p, text, cut));
    conn.state = p;
    conn.onDrain = () => this.drained(p);
    this.members.set(p.name.toLowerCase(), p);
    const others = this.members.size - 1;
    this.tell(p, {
      type: "notice",
      text: `welcome, you are ${p.name} (${others} ${others === 1 ? "other" : "others"} here; /nick NAME to rename, /help for commands)`,
    });
    for (const line of this.history) conn.send(line);
    p.joinTimer = setTimeout(() => this.announce(p), JOIN_GRACE_MS);
    if (this.paused) conn.pause();
  }

  data(conn: Conn, chunk: Uint8Array): void {
    (conn.state as Participant).input?.push(chunk);
  }

  end(conn: Conn): void {
    const p = conn.state as Participant;
    p.input?.finish();
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
    if (p.announced) {
      this.broadcast({ type: "leave", name: p.name, peer: p.peer, reason: conn.leaveReason ?? "closed" }, p);
    }
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
      if (p.conn && now - p.conn.lastProgress > SLOW_CONSUMER_MS) this.drop(p);
    }
  }

  shutdown(): void {
    this.broadcast({ type: "notice", text: "server shutting down" });
  }

  say(line: string): void {
    this.line(this.console, line, false);
  }

  /** Sends an event to everyone but `except`; the console always sees it. */
  broadcast(event: ChatEvent, except?: Participant): void {
    const bytes = encoder.encode(`${eventLine(event)}\n`);
    for (const m of this.members.values()) {
      if (m === except || !m.conn?.isOpen) continue;
      m.conn.send(bytes);
      this.watch(m);
    }
    this.ctx.emit(event);
    if ((event.type === "message" || event.type === "action") && this.ctx.history > 0) {
      this.history.push(bytes);
      if (this.history.length > this.ctx.history) this.history.shift();
    }
  }

  tell(p: Participant, event: ChatEvent): void {
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
    this.broadcast({ type: "join", name: p.name, peer: p.peer }, p);
  }

  find(name: string): Participant | undefined {
    return this.members.get(name.toLowerCase());
  }

  rename(p: Participant, name: string): void {
    this.members.delete(p.name.toLowerCase());
    p.name = name;
    this.members.set(name.toLowerCase(), p);
  }

  idleText(ms: number): string {
    return formatDuration(ms);
  }

  private line(p: Participant, text: string, cut: boolean): void {
    if (cut) this.tell(p, { type: "error", text: `line too long: cut at ${this.ctx.maxLine} bytes` });
    handleInput(this, p, text);
  }

  private guestName(): string {
    let name: string;
    do name = `guest-${++this.guests}`;
    while (this.members.has(name));
    return name;
  }

  private watch(p: Participant): void {
    const conn = p.conn;
    if (!conn || conn.queued <= ROOM_HIGH_WATER) return;
    if (conn.queued > this.ctx.maxQueue) {
      this.drop(p);
      return;
    }
    if (this.congested.has(p)) return;
    this.congested.add(p);
    if (!this.paused) {
      this.paused = true;
      for (const m of this.members.values()) m.conn?.pause();
    }
  }

  private drained(p: Participant): void {
    if (this.congested.has(p) && (p.conn?.queued ?? 0) <= ROOM_LOW_WATER) this.uncongest(p);
  }

  private uncongest(p: Participant): void {
    if (!this.congested.delete(p) || this.congested.size > 0 || !this.paused) return;
    this.paused = false;
    for (const m of this.members.values()) m.conn?.resume();
  }

  private drop(p: Participant): void {
    if (!p.conn || p.conn.isGone) return;
    p.conn.leaveReason = "too slow";
    this.uncongest(p);
    p.conn.destroy();
  }
}
