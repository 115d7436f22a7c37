/**
 * twoway: a room. Every connection is a member and so is the server's
 * console. Lines are relayed as `NAME: TEXT`, one prefix per line; notices
 * start with `* `, errors to one member with `! `; a connection may ask for
 * JSON events instead (docs/events.md).
 *
 * A room line goes one way: socket → input framing (relay.ts) → the room's
 * decisions (here and commands.ts) → the hub (hub.ts: order, history) →
 * delivery (delivery.ts, fan-out) → member sockets. This file only wires
 * those together; flow.ts holds slow receivers back.
 */
import type { ChatEvent } from "../events.ts";
import type { Mode, ModeContext } from "../modes/mode.ts";
import type { Conn } from "../net/conn.ts";
import type { RoomLobby } from "./actions.ts";
import { type Ban, banTerms } from "./bans.ts";
import { type RoomActions, runLine } from "./commands.ts";
import type { Delivery } from "./delivery.ts";
import { RoomFlow } from "./flow.ts";
import { type Hub, type HubFactory, localHub, topicEvent } from "./hub.ts";
import { Ignores } from "./ignores.ts";
import { type Member, Members } from "./members.ts";
import { MUTED } from "./moderation.ts";
import { type RelayOptions, relayInput } from "./relay.ts";

export { ROOM_HIGH_WATER, STALL_MS } from "./flow.ts";
export { JOIN_GRACE_MS } from "./members.ts";

const encoder = new TextEncoder();

export class Room implements Mode<Member>, RoomActions {
  /** The parts moves.ts takes a member in and out by. */
  readonly members: Members;
  readonly hub: Hub;
  readonly ignores = new Ignores();
  readonly openTopic: boolean;
  readonly delivery: Delivery;
  readonly flow: RoomFlow;
  private readonly drains = new Map<Member, () => void>();
  /** What each member's input does with its lines in this room: one for all of them, not a set of closures each. */
  private readonly relay: RelayOptions;
  /** This room's name on its server (see Lobby), and the server's other rooms, when it has them. */
  roomName = "main";
  lobby: RoomLobby | null = null;

  constructor(
    readonly ctx: ModeContext,
    /** The console's `/quit`: stops the server. */
    private readonly stop: () => void = () => {},
    makeHub: HubFactory = localHub,
    /** Guest names for newcomers (a room over several servers shares one sequence). */
    nextGuest?: () => string | undefined,
  ) {
    const members = new Members(ctx.name, nextGuest);
    const flow = new RoomFlow(members, ctx.maxQueue, () => this.delivery.flush());
    const options = { history: ctx.history, maxQueue: ctx.maxQueue };
    const release = (m: Member) => this.release(m);
    const parts = { members, ignores: this.ignores, flow, options, output: ctx.output, maxLine: ctx.maxLine, release };
    const { hub, delivery } = makeHub(parts);
    this.openTopic = ctx.openTopic ?? false;
    this.members = members;
    this.flow = flow;
    this.hub = hub;
    this.delivery = delivery;
    this.relay = {
      maxLine: ctx.maxLine,
      bulk: ctx.output.relayed !== undefined,
      held: (member) => this.flow.paused || member.waiting > 0,
      text: (member, text) => runLine(this, member, text),
      announce: (member) => this.announce(member),
      cut: (member) => this.tell(member, { type: "error", code: "line-cut", text: `line too long: cut at ${ctx.maxLine} bytes` }),
      muted: (member) => this.tell(member, { type: "error", code: "muted", text: MUTED }),
      rateLimit: ctx.rateLimit,
      released: () => this.delivery.flush(),
    };
  }

  start(): Promise<void> {
    return this.hub.start?.() ?? Promise.resolve();
  }

  stopped(): Promise<void> {
    return this.hub.stop?.() ?? Promise.resolve();
  }

  open(conn: Conn): Member {
    // Lines broadcast before this member joined are not for it.
    this.delivery.flush();
    const m = this.members.add(conn, this.hub.last);
    this.hub.arrive(m);
    this.seat(m, conn);
    const others = this.hub.names().length - 1;
    this.tell(m, {
      type: "notice",
      kind: "welcome",
      text: `welcome, you are ${m.name} (${others} ${others === 1 ? "other" : "others"} here; /nick NAME to rename, /help for commands)`,
    });
    for (const line of this.ctx.motd ?? []) this.tell(m, { type: "notice", kind: "motd", text: line });
    if (this.hub.topic) this.tell(m, topicEvent(this.hub.topic, true));
    this.hub.history(this.ctx.history, (bytes) => this.delivery.send(m, bytes));
    this.members.graceFor(m, () => this.announce(m));
    if (this.flow.paused) conn.pause("room");
    return m;
  }

  /** `m`'s input and drain listener, in this room. */
  seat(m: Member, conn: Conn): void {
    m.input = relayInput(m, this.hub, this.relay);
    const drained = () => this.flow.drained(m);
    conn.addDrainListener(drained);
    this.drains.set(m, drained);
  }

  /** `m` is no longer this room's: what the room kept for it is let go. */
  unseat(m: Member): void {
    this.members.remove(m);
    this.ignores.forget(m);
    this.flow.forget(m);
    this.delivery.setJson(m, false);
    const drained = this.drains.get(m);
    if (drained) m.conn?.removeDrainListener(drained);
    this.drains.delete(m);
  }

  data(m: Member, chunk: Uint8Array): void {
    m.input?.push(chunk);
    this.delivery.readDone();
  }

  end(m: Member): void {
    m.input?.finish();
    this.delivery.flush();
    const conn = m.conn;
    // A half-close is a /quit, unless the connection is closing for a reason already.
    if (conn?.isOpen) conn.end(conn.leaveReason ?? "quit");
  }

  close(m: Member): void {
    this.unseat(m);
    this.hub.leave(m, m.conn?.leaveReason ?? "closed");
    this.delivery.flush();
  }

  /** A newcomer from a banned address is refused, told why. */
  refusal(address: string): string | null {
    const ban = this.hub.bans.address(address);
    return ban ? `you are banned${banTerms(ban)}` : null;
  }

  refuse(conn: Conn, why: string): void {
    conn.send(encoder.encode(`! ${why}\n`));
    conn.end();
  }

  expire(m: Member, idleText: string): void {
    this.tell(m, { type: "error", code: "timed-out", text: `no input for ${idleText}, disconnecting` });
    m.conn?.end("timed out");
  }

  tick(now: number): void {
    this.flow.tick(now);
    this.delivery.tick(now);
    this.delivery.flush();
  }

  shutdown(): void {
    this.hub.notice({ type: "notice", kind: "shutdown", text: "server shutting down" });
    // The server closes every connection next: the notice must be queued first.
    this.delivery.flush();
  }

  say(line: string): void {
    this.members.console.spokeAt = Date.now();
    runLine(this, this.members.console, line);
    this.delivery.flush();
  }

  find(name: string): Member | undefined {
    return this.members.find(name);
  }

  names(): readonly string[] {
    return this.hub.names();
  }

  holder(name: string): string | undefined {
    return this.hub.holder(name) ?? this.lobby?.holder(name);
  }

  hubOf(name: string): Hub | undefined {
    return this.hub.holder(name) !== undefined ? this.hub : this.lobby?.hubOf(name);
  }

  whisper(m: Member, to: string, text: string): void {
    if (this.lobby && this.hub.holder(to) === undefined) this.lobby.whisper(this, m, to, text);
    else this.hub.whisper(m, to, text);
  }

  ban(ban: Ban): void {
    if (this.lobby) this.lobby.ban(this, ban);
    else this.hub.ban(ban);
  }

  join(m: Member, room: string): void {
    if (this.lobby) this.lobby.join(this, m, room);
    else this.tell(m, { type: "error", text: "this server has one room" });
  }

  rooms(m: Member): void {
    if (this.lobby) this.lobby.rooms(this, m);
    else this.tell(m, { type: "notice", kind: "rooms", text: `1 room: ${this.roomName} (${this.names().length})` });
  }

  tell(m: Member, event: ChatEvent): void {
    this.delivery.tell(m, event);
  }

  rename(m: Member, name: string): void {
    const from = m.name;
    this.hub.rename(m, name);
    this.lobby?.renamed(this, from, name);
  }

  /**
   * `m` waited for the hub (see Member.waiting): it is read again and its
   * held lines go on. A hold of the room's (flow) or of its rate stays, and
   * each lets go of its own: the wait's pause ends here whatever they do.
   */
  release(m: Member): void {
    if (m.waiting > 0 || !m.conn?.isOpen) return;
    m.conn.resume("name");
    if (this.flow.paused) return;
    m.input?.release();
    this.delivery.flush();
  }

  /** Announces a newcomer once: after its first line, or when the grace period ends. */
  announce(m: Member): void {
    // Not flushed here: joins whose timers fire together go out as one batch.
    if (this.members.markAnnounced(m)) this.hub.join(m);
  }

  /**
   * `/events json [after=ID]` or `/events text` (docs/events.md). What was
   * queued for `m` goes out in the format it had; JSON starts with the
   * `ready` object and the lines replayed.
   */
  events(m: Member, format: "json" | "text", after?: string): void {
    if (!m.conn) {
      this.tell(m, { type: "error", text: "/events is for connections" });
      return;
    }
    this.delivery.flush();
    if (format === "text") {
      if (m.json) m.textFrom = this.hub.last;
      this.delivery.setJson(m, false);
      return;
    }
    this.hub.replay(m, after, (reply) => {
      this.delivery.setJson(m, true);
      // Asked again later, the window starts here: what follows is sent as JSON.
      m.textFrom = this.hub.last;
      this.delivery.send(m, reply);
    });
  }

  quit(m: Member, text: string): void {
    if (!m.conn) {
      this.stop();
      return;
    }
    m.parting = text;
    this.tell(m, { type: "notice", kind: "bye", text: "bye" });
    m.conn.end("quit");
  }
}
