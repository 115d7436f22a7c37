/**
 * A connection (or the server's console) moving from one room of a server
 * to another (`/join`, see lobby.ts): the old room sees it leave
 * (`* bob left (joined ops)`), the new one sees it join, and the mover is
 * told where it is, the topic and the new room's lines, as text or as JSON
 * (a `ready` object and the replay) as it took them before.
 */
import type { Conn } from "../net/conn.ts";
import type { Ban } from "./bans.ts";
import { topicEvent } from "./hub.ts";
import type { Member } from "./members.ts";
import { banHere } from "./moderation.ts";
import type { Room } from "./room.ts";

/** `m` leaves `room` for the room `to`; its connection stays open. */
export function moveOut(room: Room, m: Member, to: string): void {
  room.unseat(m);
  m.parting = to;
  room.hub.leave(m, "moved");
  room.delivery.flush();
}

/** `from`, a member of another room, comes into `room` on `conn` under its name; its new member is returned. */
export function moveIn(room: Room, conn: Conn, from: Member, json: boolean): Member {
  room.delivery.flush();
  const m = room.members.add(conn, room.hub.last, from.name);
  carryOver(from, m);
  for (const name of from.ignoring?.values() ?? []) room.ignores.add(m, name);
  room.hub.arrive(m);
  room.seat(m, conn);
  if (json) room.delivery.setJson(m, true);
  greet(room, m);
  if (json) room.hub.replay(m, undefined, (reply) => room.delivery.send(m, reply));
  else room.hub.history(room.ctx.history, (bytes) => room.delivery.send(m, bytes));
  m.textFrom = room.hub.last;
  // Not yet announced where it was (a reconnecting client's `/join` comes before its `/nick`): it gets its grace here too.
  if (!from.announced) room.members.graceFor(m, () => room.announce(m));
  else if (room.members.markAnnounced(m)) room.hub.join(m);
  if (room.flow.paused) conn.pause("room");
  else conn.resume("room");
  room.delivery.flush();
  return m;
}

/** The console leaves `room` for the room `to` (the room sees it go), or, `to` undefined, is not in it from the start. */
export function consoleOut(room: Room, name: string, to?: string): void {
  const c = room.members.console;
  if (to !== undefined) {
    c.parting = to;
    room.hub.leave(c, "moved");
    c.parting = "";
  }
  room.members.placeConsole(false, name);
  room.delivery.flush();
}

/** The console comes into `room` under `name`: the room sees it join, it is told where it is. */
export function consoleIn(room: Room, name: string): void {
  const c = room.members.console;
  room.members.placeConsole(true, name);
  room.hub.join(c);
  greet(room, c);
  room.delivery.flush();
}

/** A ban set in another room of the server: the members of `room` it covers leave. */
export function enforce(room: Room, ban: Ban): void {
  banHere(room.delivery, room.members, ban);
  room.delivery.flush();
}

/** The mover's greeting: the room it is in now (JSON: a notice of kind `room`), and its topic. */
function greet(room: Room, m: Member): void {
  const others = room.hub.names().length - 1;
  const text = `you are in room ${room.roomName} now (${others} ${others === 1 ? "other" : "others"} here)`;
  room.tell(m, { type: "notice", kind: "room", room: room.roomName, text });
  if (room.hub.topic) room.tell(m, topicEvent(room.hub.topic, true));
}

/** What a member keeps when it moves: its rate, rename and change limits, since when it is here, away, mute. */
function carryOver(from: Member, to: Member): void {
  to.renames = from.renames;
  to.renamesAt = from.renamesAt;
  to.changes = from.changes;
  to.since = from.since;
  to.spokeAt = from.spokeAt;
  to.away = from.away;
  to.muted = from.muted;
  to.buckets = from.buckets;
}
