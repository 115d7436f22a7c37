/**
 * The hub: where everything a room says goes, and the one way it comes back
 * to the members. The room decides (who may say what, names, commands); the
 * hub gives the room's events their order, keeps the room's lines, and hands
 * each event to delivery (Delivery: fan-out to member sockets).
 *
 * Contract, for every implementation:
 * - **One order.** Every member receives the room's events in one order, the
 *   hub's, and each member's own events in the order it published them.
 * - **Who gets what.** A room line (`say`, `sayPlain`, `act`) reaches every
 *   member but its sender (whose client shows its own line), and is kept with
 *   an id and the time it was said. `join` reaches everyone but the newcomer;
 *   `leave` everyone still here; `rename` and `notice` everyone. `whisper`
 *   reaches its target and comes back to its sender, and is never kept.
 *   `kick` tells the target and closes its connection.
 * - **Asynchronous delivery.** Publishing returns at once; delivery may come
 *   later (a hub shared by several servers delivers what it read back from
 *   its backend), always in the hub's order and always through delivery. The
 *   in-process hub delivers before returning.
 * - **History lives in the hub.** `history` (a newcomer's last lines, as
 *   text) and `replay` (JSON events after an id) read what the hub kept; they
 *   may answer later, through the callback.
 * - **A backend gone** (a shared hub): a member's line that cannot be
 *   published is delivered once the backend is back, or its sender is told
 *   `! not sent: …`; never silently dropped. The in-process hub cannot fail.
 */
import { type ChatEvent, eventLine, type LeaveReason } from "../events.ts";
import type { Delivery, RecordLines, Stamp } from "./delivery.ts";
import type { Member, Members } from "./members.ts";
import { RECENT_MIN_LINES, RecentLines } from "./recent.ts";
import { eventsReply } from "./wire.ts";

const encoder = new TextEncoder();
/** A JSON replay takes at most this share of `--max-queue`: the lines said meanwhile need room too. */
const REPLAY_QUEUE_SHARE = 0.5;
/**
 * A newcomer's history is at most this many bytes (the newest whole lines), and at most the
 * replay's share of `--max-queue`: `--history 10000` of 64 KiB lines would otherwise be
 * 625 MiB per newcomer, and more than its queue may hold.
 */
export const HISTORY_MAX_BYTES = 1024 * 1024;
const LF = 0x0a;

export interface Hub {
  say(from: Member, text: string): void;
  act(from: Member, text: string): void;
  /** One plain line `from` said, `bytes[start, end)`: relayed as it is, no string made. */
  sayPlain(from: Member, bytes: Uint8Array, start: number, end: number): void;
  /** The plain lines at the start of `bytes[start, end)`, many at once; returns where it stopped. */
  sayPlainLines(from: Member, bytes: Uint8Array, start: number, end: number): number;
  whisper(from: Member, to: Member, text: string): void;
  join(m: Member): void;
  leave(m: Member, reason: LeaveReason): void;
  rename(m: Member, from: string, to: string): void;
  kick(target: Member): void;
  notice(event: ChatEvent): void;
  /** A newcomer's history: the last `n` room lines as text (nothing when there are none). */
  history(n: number, send: (bytes: Uint8Array) => void): void;
  /** What `/events json [after=ID]` answers `m` (docs/events.md). */
  replay(m: Member, after: string | undefined, send: (reply: Uint8Array) => void): void;
  /** Room lines numbered above this were said before now (see Member.textFrom). */
  readonly last: number;
}

export interface HubOptions {
  /** Lines a newcomer is shown (`--history`). */
  history: number;
  maxQueue: number;
}

/** The room in one process: the order is the order of calls, and delivery is at once. */
export class LocalHub implements Hub {
  private readonly recent: RecentLines;
  private readonly delivery: Delivery;
  /** The last history sent, shared by every newcomer until a line is said: no copy per newcomer. */
  private historySent: { last: number; n: number; bytes: Uint8Array } | null = null;

  /** `deliver` makes the delivery this hub hands events to, given the start of its lines' JSON. */
  constructor(
    private readonly members: Members,
    private readonly options: HubOptions,
    deliver: (idHead: Uint8Array, record: RecordLines) => Delivery,
  ) {
    this.recent = new RecentLines(Date.now(), Math.max(options.history, RECENT_MIN_LINES));
    this.delivery = deliver(encoder.encode(`{"id":"${this.recent.start}-`), this.record);
  }

  get last(): number {
    return this.recent.last;
  }

  say(from: Member, text: string): void {
    this.roomLine({ type: "message", from: from.name, text }, from);
  }

  act(from: Member, text: string): void {
    this.roomLine({ type: "action", from: from.name, text }, from);
  }

  sayPlain(from: Member, bytes: Uint8Array, start: number, end: number): void {
    this.delivery.plainLine(from, bytes, start, end);
  }

  sayPlainLines(from: Member, bytes: Uint8Array, start: number, end: number): number {
    return this.delivery.plainLines(from, bytes, start, end);
  }

  whisper(from: Member, to: Member, text: string): void {
    const event = { type: "message", from: from.name, to: to.name, text } as const;
    this.delivery.tell(to, event);
    this.delivery.tell(from, event);
  }

  join(m: Member): void {
    this.delivery.broadcast({ type: "join", name: m.name, peer: m.peer }, m);
  }

  leave(m: Member, reason: LeaveReason): void {
    this.delivery.broadcast({ type: "leave", name: m.name, peer: m.peer, reason }, m);
  }

  rename(_m: Member, from: string, to: string): void {
    this.delivery.broadcast({ type: "rename", from, to });
  }

  kick(target: Member): void {
    this.delivery.tell(target, { type: "error", code: "kicked", text: "you were kicked" });
    target.conn?.end("kicked");
  }

  notice(event: ChatEvent): void {
    this.delivery.broadcast(event);
  }

  history(n: number, send: (bytes: Uint8Array) => void): void {
    if (n <= 0) return;
    const last = this.recent.last;
    const kept = this.historySent;
    if (kept && kept.last === last && kept.n === n) {
      send(kept.bytes);
      return;
    }
    const tail = this.recent.tail(n);
    if (!tail) return;
    const bytes = newestWithin(tail, Math.min(HISTORY_MAX_BYTES, this.options.maxQueue * REPLAY_QUEUE_SHARE));
    this.historySent = { last, n, bytes };
    if (bytes.length > 0) send(bytes);
  }

  replay(m: Member, after: string | undefined, send: (reply: Uint8Array) => void): void {
    const replay = this.recent.replay(after, this.options.history, m.textFrom, m.serial);
    const names = this.members.names();
    const limit = this.options.maxQueue * REPLAY_QUEUE_SHARE;
    send(encoder.encode(eventsReply(Date.now(), m.name, names, replay, (seq) => this.recent.id(seq), limit)));
  }

  /** A room line said through the text path: numbered, kept (as relayed), delivered. */
  private roomLine(event: ChatEvent, from: Member): void {
    const line = encoder.encode(`${eventLine(event)}\n`);
    const stamp = this.record(line, 0, line.length, 1, from);
    this.delivery.broadcast(event, from, { ...stamp, id: this.recent.id(stamp.seq) });
  }

  /** Numbers and keeps relayed plain lines (see Delivery.plainLines). */
  private readonly record = (bytes: Uint8Array, start: number, end: number, lines: number, from: Member): Stamp => {
    const ts = Date.now();
    return { seq: this.recent.add(bytes, start, end, lines, from.serial, ts), ts };
  };
}

/** The newest whole lines of `bytes` (each ending with a newline) that fit in `most` bytes. */
function newestWithin(bytes: Uint8Array, most: number): Uint8Array {
  if (bytes.length <= most) return bytes;
  const start = bytes.indexOf(LF, bytes.length - most - 1) + 1;
  return start > 0 ? bytes.subarray(start) : bytes.subarray(bytes.length);
}
