/**
 * Several rooms on one server, devzat style: every connection starts in
 * `main` and `/join NAME` moves it to another room (made when first joined,
 * forgotten with its history and topic when its last member leaves). Each
 * room is a whole Room with its own hub, members, history and topic; the
 * lobby only routes each connection to the room it is in and answers what
 * spans rooms: names (unique on the whole server), `/msg`, bans, `/rooms`.
 *
 * In a cluster (`--redis`) the server's first room is its cluster room
 * (`--room`), and every room is a cluster room: the first `/join` of another
 * opens this server's presence there (see Cluster.sibling), and it is let go
 * when the server's last member there leaves. `/rooms` then counts the whole
 * cluster's rooms. Events of rooms other than the first are labelled with
 * their room in the server's output (ModeOutput.inRoom).
 */
import { reason } from "../errors.ts";
import type { Mode, ModeContext } from "../modes/mode.ts";
import type { Conn } from "../net/conn.ts";
import type { RoomActions, RoomLobby } from "./actions.ts";
import { type Ban, BanList } from "./bans.ts";
import { type Hub, type HubFactory, localHub } from "./hub.ts";
import type { Member } from "./members.ts";
import { consoleIn, consoleOut, enforce, moveIn, moveOut } from "./moves.ts";
import { nameKey, roomProblem } from "./names.ts";
import { Room } from "./room.ts";
import { type Presence, SharedRooms } from "./shared-rooms.ts";

/** Where everyone starts, and the room that is never forgotten. */
export const MAIN_ROOM = "main";

/** A connection's place: the room it is in and its member there (both change when it moves). */
export interface Seat {
  room: Room;
  member: Member;
}

export class Lobby implements Mode<Seat>, RoomLobby {
  /** By room key (case-insensitive, like names): `Ops` and `ops` are one room. */
  private readonly byKey = new Map<string, Room>();
  private readonly seats = new Map<Conn, Seat>();
  private readonly bans = new BanList();
  private readonly makeHub: HubFactory = (parts) => localHub({ ...parts, bans: this.bans });
  private readonly main: Room;
  private guests = 0;
  /** Newcomers' guest names, free in every room (someone in another room may have taken `guest-7` by `/nick`). */
  private readonly nextGuest = (): string => {
    let name: string;
    do name = `guest-${++this.guests}`;
    while (this.holder(name) !== undefined);
    return name;
  };
  /** The room the server's console is in. */
  private consoleRoom: Room;
  /** In a cluster: its other rooms, opened and let go. */
  private readonly shared: SharedRooms | null;

  constructor(
    private readonly ctx: ModeContext,
    private readonly stop: () => void,
    cluster?: Presence,
  ) {
    this.shared = cluster ? new SharedRooms(cluster, this.make, this.adopt) : null;
    this.main = cluster ? new Room(ctx, stop, cluster.makeHub, cluster.nextGuest) : new Room(ctx, stop, this.makeHub, this.nextGuest);
    this.main.lobby = this;
    // In a cluster, the server's room is the cluster's (`--room`, main by default).
    this.main.roomName = cluster?.room ?? MAIN_ROOM;
    this.byKey.set(nameKey(this.main.roomName), this.main);
    this.consoleRoom = this.main;
  }

  start(): Promise<void> {
    return this.main.start();
  }

  async stopped(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((r) => r.stopped()));
    await this.shared?.gone();
  }

  open(conn: Conn): Seat {
    const seat = { room: this.main, member: this.main.open(conn) };
    this.seats.set(conn, seat);
    return seat;
  }

  data(seat: Seat, chunk: Uint8Array): void {
    seat.room.data(seat.member, chunk);
  }

  end(seat: Seat): void {
    seat.room.end(seat.member);
  }

  close(seat: Seat): void {
    seat.room.close(seat.member);
    if (seat.member.conn) this.seats.delete(seat.member.conn);
    this.forgetIfEmpty(seat.room);
  }

  /** A ban of any room the server has refuses (one server: they share one list; a cluster: each room's own). */
  refusal(address: string): string | null {
    for (const room of this.byKey.values()) {
      const why = room.refusal(address);
      if (why) return why;
    }
    return null;
  }

  refuse(conn: Conn, why: string): void {
    this.main.refuse(conn, why);
  }

  expire(seat: Seat, idleText: string): void {
    seat.room.expire(seat.member, idleText);
  }

  tick(now: number): void {
    for (const room of this.byKey.values()) room.tick(now);
  }

  shutdown(): void {
    if (this.shared) this.shared.stopping = true;
    for (const room of this.byKey.values()) room.shutdown();
  }

  say(line: string): void {
    this.consoleRoom.say(line);
  }

  holder(name: string): string | undefined {
    for (const room of this.byKey.values()) {
      const holder = room.hub.holder(name);
      if (holder !== undefined) return holder;
    }
    return undefined;
  }

  hubOf(name: string): Hub | undefined {
    return this.roomOf(name)?.hub;
  }

  whisper(from: RoomActions, m: Member, to: string, text: string): void {
    const room = this.roomOf(to);
    const target = room?.find(to);
    // Held on another server, in one of this server's cluster rooms: through that room's hub, answered here.
    if (room && !target) room.hub.whisper(m, to, text, (event) => from.tell(m, event));
    if (!room || !target) return;
    const event = { type: "message", from: m.name, to: target.name, text } as const;
    room.tell(target, event);
    from.tell(m, event);
    room.delivery.flush();
  }

  /** A ban is the server's: set where the console is, and in force in every room. */
  ban(from: RoomActions, ban: Ban): void {
    from.hub.ban(ban);
    for (const room of this.byKey.values()) if (room !== from) enforce(room, ban);
  }

  renamed(from: RoomActions, was: string, is: string): void {
    for (const room of this.byKey.values()) if (room !== from) room.ignores.renamed(was, is);
  }

  join(from: RoomActions, m: Member, name: string): void {
    const key = nameKey(name);
    const problem = roomProblem(name);
    if (problem) from.tell(m, { type: "error", text: `invalid room: ${problem}` });
    else if (this.byKey.get(key) === from) from.tell(m, { type: "error", text: `you are already in ${name}` });
    else {
      // The lines it sent after `/join` are held (its connection paused), then go to the new room with it.
      m.waiting++;
      m.conn?.pause("name");
      this.toward(m, this.shared ? key : name);
    }
  }

  /** One server: its rooms; a cluster: the cluster's, as Redis counts them (asked, so answered a little later). */
  rooms(from: RoomActions, m: Member): void {
    const counts = () => [...this.byKey.values()].map((r) => ({ name: r.roomName, members: r.names().length }));
    if (!this.shared) this.listRooms(from, m, counts());
    else
      this.shared.cluster.rooms().then(
        (rooms) => this.listRooms(from, m, rooms),
        (error: unknown) => from.tell(m, { type: "error", text: `cannot list the rooms: ${reason(error)}` }),
      );
  }

  private listRooms(from: RoomActions, m: Member, counted: { name: string; members: number }[]): void {
    const first = nameKey(this.main.roomName);
    const rank = (name: string) => (nameKey(name) === first ? 0 : 1);
    const rooms = counted.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
    const list = rooms.map((r) => `${r.name} (${r.members})`).join(", ");
    const where = this.where(m);
    const text = `${rooms.length} ${rooms.length === 1 ? "room" : "rooms"}: ${list}; you are in ${where} (/join NAME to move)`;
    from.tell(m, { type: "notice", kind: "rooms", room: where, rooms, text });
  }

  /** The console's name, as the room it is in knows it. */
  private consoleName(): string {
    return this.consoleRoom.members.console.name;
  }

  /** The room `m` is in. */
  private where(m: Member): string {
    if (!m.conn) return this.consoleRoom.roomName;
    return this.seats.get(m.conn)?.room.roomName ?? this.main.roomName;
  }

  /** `m` (waiting since its `/join`) moves to the room called `name` once it is there. */
  private toward(m: Member, name: string): void {
    this.reach(name).then(
      (to) => this.go(m, name, to),
      (error: unknown) => this.go(m, name, null, `cannot join ${name}: ${reason(error)}`),
    );
  }

  /** `m` goes into `to`, unless its name is someone else's there (a member of a cluster room on another server); or stays, told why. */
  private go(m: Member, name: string, to: Room | null, why = ""): void {
    // Let go of meanwhile (its last member left): opened again.
    if (to && this.byKey.get(nameKey(name)) !== to) {
      this.toward(m, name);
      return;
    }
    m.waiting--;
    const holder = to?.hub.holder(m.name);
    if (to && holder === undefined) {
      if (m.conn) this.move(m, to);
      else this.moveConsole(this.consoleRoom, to, m.name);
      return;
    }
    if (to) this.forgetIfEmpty(to);
    const here = m.conn ? this.seats.get(m.conn)?.room : this.consoleRoom;
    here?.tell(m, { type: "error", text: to ? `the name ${holder} is taken in ${to.roomName}: /nick another to join it` : why });
    here?.release(m);
  }

  /** The room called `name`: made when it is not there; in a cluster, this server's presence there opened first. */
  private reach(name: string): Promise<Room> {
    const key = nameKey(name);
    const known = this.byKey.get(key);
    if (known) return Promise.resolve(known);
    return this.shared ? this.shared.open(key) : Promise.resolve(this.adopt(key, this.make(name, this.makeHub)));
  }

  /** A room of this server's, not yet among its rooms; the console is not in it. Its events are labelled with its name. */
  private readonly make = (name: string, makeHub: HubFactory, nextGuest?: () => string | undefined): Room => {
    const output = this.ctx.output.inRoom?.(name) ?? this.ctx.output;
    const room = new Room({ ...this.ctx, output }, this.stop, makeHub, nextGuest);
    room.roomName = name;
    room.lobby = this;
    consoleOut(room, this.consoleName());
    return room;
  };

  private readonly adopt = (key: string, room: Room): Room => {
    this.byKey.set(key, room);
    return room;
  };

  private roomOf(name: string): Room | undefined {
    for (const room of this.byKey.values()) if (room.hub.holder(name) !== undefined) return room;
    return undefined;
  }

  private move(m: Member, to: Room): void {
    const conn = m.conn;
    const seat = conn ? this.seats.get(conn) : undefined;
    if (!conn?.isOpen || !seat || seat.member !== m) {
      this.forgetIfEmpty(to);
      return;
    }
    const rest = m.input?.takeHeld() ?? null;
    const json = m.json;
    const from = seat.room;
    moveOut(from, m, to.roomName);
    seat.room = to;
    seat.member = moveIn(to, conn, m, json);
    conn.resume("name");
    if (rest) to.data(seat.member, rest);
    this.forgetIfEmpty(from);
  }

  private moveConsole(from: Room, to: Room, name: string): void {
    consoleOut(from, name, to.roomName);
    consoleIn(to, name);
    this.consoleRoom = to;
    this.forgetIfEmpty(from);
  }

  /** A room other than main with no one of this server's in it is forgotten, its history and topic with it (a cluster room's stay in Redis). */
  private forgetIfEmpty(room: Room): void {
    const key = nameKey(room.roomName);
    if (room === this.main || room.members.size > 0 || this.byKey.get(key) !== room) return;
    this.byKey.delete(key);
    this.shared?.letGo(key, room);
  }
}
