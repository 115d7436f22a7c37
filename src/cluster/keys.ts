/**
 * Where a cluster room lives in Redis. Every key of room R starts with
 * `chat:{R}:`: the braces are a Redis Cluster hash tag, so one room's keys
 * share a slot (its scripts may touch them together) and many rooms spread
 * over a Redis Cluster. Room names are case-insensitive (as on one server):
 * `Ops` and `ops` are one room, kept under `chat:{ops}:`.
 */
export interface RoomKeys {
  /** The room's name as its keys hold it (lower case). */
  room: string;
  /** Stream: the room's events in the room's one order (lines, joins, leaves, renames). */
  log: string;
  /** Hash: `epoch` (when this copy of the room began, ms), `seq` (the last line's number), `guests`, `topic`, `topicBy`, `topicAt`. */
  meta: string;
  /** Hash: name key (lower case) → `NODE\tSERIAL\tANNOUNCED\tNAME`. */
  names: string;
  /** Hash: name key → what its member published of itself, `SINCE\tPEER\tADDRESS\tAWAY` (see roster.ts). */
  info: string;
  /** Hash: ban key (`name:KEY`, `address:CIDR`) → `UNTIL\tBY\tOF\tREASON` (see room/bans.ts). */
  bans: string;
  /** Sorted set: node → when its lease ends (Redis time, ms). */
  nodes: string;
  /** Hash: node → the boot id of the process that holds the name. */
  boots: string;
  /** The start of per-node keys: `inbox:NODE` (a stream of private messages and kicks), `pub:BOOT`. */
  prefix: string;
}

export function roomKeys(room: string): RoomKeys {
  const key = room.toLowerCase();
  const prefix = `chat:{${key}}:`;
  return {
    room: key,
    log: `${prefix}log`,
    meta: `${prefix}meta`,
    names: `${prefix}names`,
    info: `${prefix}info`,
    bans: `${prefix}bans`,
    nodes: `${prefix}nodes`,
    boots: `${prefix}boots`,
    prefix,
  };
}

/** Set: every cluster room a server ever served (by key, lower case), for `/rooms`. */
export const ROOMS_KEY = "chat:rooms";

export const inboxKey = (keys: RoomKeys, node: string) => `${keys.prefix}inbox:${node}`;
export const pubKey = (keys: RoomKeys, boot: string) => `${keys.prefix}pub:${boot}`;
