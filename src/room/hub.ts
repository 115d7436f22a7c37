/**
 * The hub: where everything a room says goes, and the one way it comes back
 * to the members. The room decides (who may say what, commands); the hub
 * gives the room's events their order, knows every name in the room, keeps
 * the room's lines, and hands each event to delivery (fan-out to member
 * sockets). LocalHub is the room in one process; cluster/redis-hub.ts is one
 * room over several servers.
 *
 * Contract, for every implementation:
 * - **One order.** Every member receives the room's events in one order, the
 *   hub's, and each member's own events in the order it published them.
 * - **Who gets what.** A room line (`say`, `sayPlain`, `act`) reaches every
 *   member but its sender (whose client shows its own line), and is kept with
 *   an id and the time it was said. `join` reaches everyone but the newcomer;
 *   `leave` everyone still here; `rename` everyone (or the member alone
 *   while it is not announced); `notice` this server's members. `whisper`
 *   reaches its target and comes back to its sender, and is never kept.
 *   `kick` tells the target why and closes its connection (the room sees
 *   the reason in its leave). `away` and `setTopic` reach everyone, the
 *   member that set them included. Nobody gets a room line, action or
 *   private message from a name it ignores (Ignores): the hub hands every
 *   event to delivery, which leaves those out.
 * - **Room state.** What `away` and `setTopic` set is known on every server
 *   of the room once its event was delivered there: `whois` (and so `/who`,
 *   `/msg`) sees a member's away text, `topic` the topic newcomers are
 *   shown. `whois` of a member on another server knows what that server
 *   published (since when, its address, away), not its idle time. A shared
 *   hub knows a member's own away at once on its server; a topic or a ban
 *   only when it reads it back, in the room's order, on every server alike.
 * - **Moderation** (the console's). `mute` reaches the member wherever it is
 *   connected and the console is told the outcome. A `ban` is in force on
 *   every server of the room: members it covers leave (`banned`), newcomers
 *   from its addresses are refused (`bans.address`), its name may not be
 *   taken (`bans.name`); every server's console gets a `ban` event when one
 *   is set or lifted. A ban ends at its time without an event.
 * - **Names.** `arrive` registers a newcomer's guest name, `rename` a name the
 *   room found free, `leave` frees it. A shared hub may find a name taken
 *   after all (another server's member got it first): the member is told.
 * - **Asynchronous delivery.** Publishing returns at once; delivery may come
 *   later (a hub shared by several servers delivers what it read back from
 *   its backend), always in the hub's order and always through delivery. The
 *   in-process hub delivers before returning.
 * - **History lives in the hub.** `history` (a newcomer's last lines, as
 *   text) and `replay` (JSON events after an id) read what the hub kept.
 * - **A backend gone** (a shared hub): a member's line that cannot be
 *   published is delivered once the backend is back, or its sender is told
 *   `! not sent: …`; never silently dropped. The in-process hub cannot fail.
 */
import { type ChatEvent, eventLine, type LeaveReason } from "../events.ts";
import type { ModeOutput } from "../modes/mode.ts";
import { type Ban, BanList, banEvent } from "./bans.ts";
import { Delivery, type RecordLines } from "./delivery.ts";
import type { RoomFlow } from "./flow.ts";
import type { Ignores } from "./ignores.ts";
import { KeptLines, type KeptOptions } from "./kept.ts";
import type { Member, Members } from "./members.ts";
import { banHere, infoHere, kickHere, type MemberInfo, muteHere } from "./moderation.ts";

export { HISTORY_MAX_BYTES } from "./kept.ts";

const encoder = new TextEncoder();

export interface Hub {
  say(from: Member, text: string): void;
  act(from: Member, text: string): void;
  /** One plain line `from` said, `bytes[start, end)`: relayed as it is, no string made. */
  sayPlain(from: Member, bytes: Uint8Array, start: number, end: number): void;
  /** The plain lines at the start of `bytes[start, end)`, many at once; returns where it stopped. */
  sayPlainLines(from: Member, bytes: Uint8Array, start: number, end: number): number;
  /** A private message to whoever holds the name `to` (as `holder` gave it); the sender's copy or error go to `answer` (default: `from` here). */
  whisper(from: Member, to: string, text: string, answer?: (event: ChatEvent) => void): void;
  /** A newcomer, under the guest name Members gave it. */
  arrive(m: Member): void;
  join(m: Member): void;
  /** `m` is gone (announced or not): its name is free. */
  leave(m: Member, reason: LeaveReason): void;
  /** `m` takes the name `to`, which the room found free. */
  rename(m: Member, to: string): void;
  /** Disconnects whoever holds the name, telling it `reason` ("" for none); the room sees it. */
  kick(name: string, reason: string): void;
  /** `m` is away (`text`, "" when it gave none) or back (null); everyone is told. */
  away(m: Member, text: string | null): void;
  /** What the room knows of whoever holds `name`, or undefined when no one does. */
  whois(name: string): MemberInfo | undefined;
  /** The room's topic, or null when none is set. */
  readonly topic: Topic | null;
  /** `by` sets the topic ("" clears it); everyone is told. */
  setTopic(by: Member, text: string): void;
  /** Mutes (or unmutes) whoever holds `name`, wherever it is; the console is told. */
  mute(name: string, on: boolean): void;
  /** The bans this server knows (for a shared hub, its copy of the room's): read them here, set them with `ban`. */
  readonly bans: BanList;
  ban(ban: Ban): void;
  /** Lifts the ban on `key` (see Ban.key); the console is told. */
  unban(key: string): void;
  /** A notice for this server's members. */
  notice(event: ChatEvent): void;
  /** A newcomer's history: the last `n` room lines as text (nothing when there are none). */
  history(n: number, send: (bytes: Uint8Array) => void): void;
  /** What `/events json [after=ID]` answers `m` (docs/events.md). */
  replay(m: Member, after: string | undefined, send: (reply: Uint8Array) => void): void;
  /** Room lines numbered above this were said before now (see Member.textFrom). */
  readonly last: number;
  /** Every name in the room, sorted (the room's own list: do not change it, copy it to keep it). */
  names(): readonly string[];
  /** The name as held by a member of the room (its own case), or undefined when no one holds it. */
  holder(name: string): string | undefined;
  /** Before the server listens (a shared hub connects and reads the room). */
  start?(): Promise<void>;
  /** After every connection closed (a shared hub says what is left and lets go). */
  stop?(): Promise<void>;
}

export type HubOptions = KeptOptions;

/** The room's topic: its text, who set it, when (ms). */
export interface Topic {
  text: string;
  by: string;
  at: number;
}

/** The event that tells of a topic set (or, `current`, as it stands: for a newcomer or `/topic`). */
export function topicEvent(topic: Topic | null, current: boolean, by = ""): ChatEvent {
  return { type: "topic", topic: topic?.text ?? "", by: topic?.by ?? by, at: topic?.at ?? Date.now(), current };
}

/** What the room hands a hub it makes. */
export interface HubParts {
  members: Members;
  ignores: Ignores;
  flow: RoomFlow;
  options: HubOptions;
  output: ModeOutput;
  maxLine: number;
  /** Reads `m`'s lines again once nothing of its own holds them (see Member.waiting). */
  release(m: Member): void;
  /** The server's bans, when its rooms share them (several rooms on one server); otherwise the hub keeps its own. */
  bans?: BanList;
}

export type HubFactory = (parts: HubParts) => { hub: Hub; delivery: Delivery };

export const localHub: HubFactory = (parts) => {
  const hub = new LocalHub(parts);
  return { hub, delivery: hub.delivery };
};

/** The room in one process: the order is the order of calls, and delivery is at once. */
export class LocalHub implements Hub {
  private readonly kept: KeptLines;
  private readonly members: Members;
  readonly delivery: Delivery;
  readonly bans: BanList;
  topic: Topic | null = null;

  constructor(parts: HubParts) {
    this.members = parts.members;
    this.bans = parts.bans ?? new BanList();
    this.kept = new KeptLines(Date.now(), parts.options);
    const idHead = encoder.encode(`{"id":"${this.kept.start}-`);
    this.delivery = new Delivery(parts.members, parts.flow, parts.output, parts.maxLine, idHead, this.record, parts.ignores);
  }

  get last(): number {
    return this.kept.last;
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

  whisper(from: Member, to: string, text: string): void {
    const target = this.members.find(to);
    if (!target) return;
    const event = { type: "message", from: from.name, to: target.name, text } as const;
    this.delivery.tell(target, event);
    this.delivery.tell(from, event);
  }

  arrive(_m: Member): void {}

  join(m: Member): void {
    this.delivery.broadcast({ type: "join", name: m.name, peer: m.peer }, m);
  }

  leave(m: Member, reason: LeaveReason): void {
    const message = m.parting || undefined;
    if (m.announced) this.delivery.broadcast({ type: "leave", name: m.name, peer: m.peer, reason, message }, m);
  }

  rename(m: Member, to: string): void {
    const from = m.name;
    this.members.rename(m, to);
    if (m.announced) this.delivery.broadcast({ type: "rename", from, to });
    else this.delivery.tell(m, { type: "rename", from, to, self: true });
  }

  kick(name: string, reason: string): void {
    const target = this.members.find(name);
    if (target) kickHere(this.delivery, target, reason);
  }

  away(m: Member, text: string | null): void {
    m.away = text;
    this.delivery.broadcast({ type: "away", name: m.name, away: text !== null, message: text || undefined });
  }

  whois(name: string): MemberInfo | undefined {
    const m = this.members.find(name);
    return m && infoHere(m);
  }

  setTopic(by: Member, text: string): void {
    this.topic = text ? { text, by: by.name, at: Date.now() } : null;
    this.delivery.broadcast(topicEvent(this.topic, false, by.name));
  }

  mute(name: string, on: boolean): void {
    const target = this.members.find(name);
    if (!target?.conn) return;
    muteHere(this.delivery, target, on);
    this.delivery.tell(this.members.console, { type: "notice", text: `${target.name} is ${on ? "muted" : "no longer muted"}` });
  }

  ban(ban: Ban): void {
    this.bans.set(ban);
    this.delivery.tell(this.members.console, banEvent(ban));
    banHere(this.delivery, this.members, ban);
  }

  unban(key: string): void {
    const ban = this.bans.lift(key);
    if (ban) this.delivery.tell(this.members.console, banEvent(ban, true));
  }

  notice(event: ChatEvent): void {
    this.delivery.broadcast(event);
  }

  history(n: number, send: (bytes: Uint8Array) => void): void {
    this.kept.history(n, send);
  }

  replay(m: Member, after: string | undefined, send: (reply: Uint8Array) => void): void {
    this.kept.replay(m, this.members.names(), after, send);
  }

  names(): readonly string[] {
    return this.members.names();
  }

  holder(name: string): string | undefined {
    return this.members.find(name)?.name;
  }

  /** A room line said through the text path: numbered, kept (as relayed), delivered. */
  private roomLine(event: ChatEvent, from: Member): void {
    const line = encoder.encode(`${eventLine(event)}\n`);
    const stamp = this.record(line, 0, line.length, 1, from);
    this.delivery.broadcast(event, from, { ...stamp, id: this.kept.id(stamp.seq) });
  }

  /** Numbers and keeps relayed plain lines (see Delivery.plainLines). */
  private readonly record: RecordLines = (bytes, start, end, lines, from) =>
    this.kept.add(bytes, start, end, lines, from.serial, Date.now());
}
