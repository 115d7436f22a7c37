/** What the commands may do to the room, and what their handlers share. */
import type { ChatEvent, ErrorCode } from "../events.ts";
import type { Ban } from "./bans.ts";
import type { Hub } from "./hub.ts";
import type { Ignores } from "./ignores.ts";
import type { Member } from "./members.ts";
import { nameKey } from "./names.ts";
import type { Input } from "./parse.ts";

/** What the commands may do to the room. */
export interface RoomActions {
  readonly hub: Hub;
  readonly ignores: Ignores;
  /** Members may set the topic (`--open-topic`), not only the console. */
  readonly openTopic: boolean;
  names(): readonly string[];
  /** The name as held by a member of any room on this server, or undefined (names are unique server-wide). */
  holder(name: string): string | undefined;
  /** The hub of the room where `name` is held (this room's first), or undefined. */
  hubOf(name: string): Hub | undefined;
  /** A private message to the holder of `to`, in whichever room it is. */
  whisper(m: Member, to: string, text: string): void;
  /** Sets a ban (the console's): in force in every room. */
  ban(ban: Ban): void;
  /** `/join ROOM`: `m` moves to that room. */
  join(m: Member, room: string): void;
  /** `/rooms`: the rooms and how many are in each, for `m`. */
  rooms(m: Member): void;
  /** An event for `m` alone: a reply, an error. */
  tell(m: Member, event: ChatEvent): void;
  /** `m` is called `name` from now on (it is free). */
  rename(m: Member, name: string): void;
  /** Announces `m` if it was not yet (its join waits for its name). */
  announce(m: Member): void;
  events(m: Member, format: "json" | "text", after?: string): void;
  /** `m` leaves (`/quit`), the room sees `text`; the console's `/quit` stops the server. */
  quit(m: Member, text: string): void;
}

export type Handler<K extends Input["kind"]> = (room: RoomActions, m: Member, input: Extract<Input, { kind: K }>) => void;
export type Handlers = { [K in Input["kind"]]: Handler<K> };

export const error = (room: RoomActions, m: Member, text: string, code?: ErrorCode) =>
  room.tell(m, code ? { type: "error", code, text } : { type: "error", text });
export const notice = (room: RoomActions, m: Member, text: string) => room.tell(m, { type: "notice", text });

/** The holder of `name` other than `m` (told when there is none, or it is `m`). */
export function other(room: RoomActions, m: Member, name: string): string | undefined {
  const target = nameKey(name) === nameKey(m.name) ? m.name : room.holder(name);
  if (!target) error(room, m, `no one called ${name} is here`);
  else if (target === m.name) error(room, m, "that is you");
  else return target;
  return undefined;
}

/** A room's view of the other rooms on its server (see Lobby); `from` is the room asking. */
export interface RoomLobby {
  holder(name: string): string | undefined;
  hubOf(name: string): Hub | undefined;
  whisper(from: RoomActions, m: Member, to: string, text: string): void;
  ban(from: RoomActions, ban: Ban): void;
  join(from: RoomActions, m: Member, room: string): void;
  rooms(from: RoomActions, m: Member): void;
  /** A member of `from` took another name: the other rooms' ignores follow it. */
  renamed(from: RoomActions, was: string, is: string): void;
}
