/**
 * A server's place in a cluster room: connecting, taking a server name
 * (leased, renewed by `beat`), taking lost servers out (`reap`), and reading
 * what Redis holds (names, recent lines, how far this server's writes got).
 */
import { hostname } from "node:os";
import { ChatError } from "../errors.ts";
import { inboxKey, pubKey, ROOMS_KEY, type RoomKeys, roomKeys } from "./keys.ts";
import type { RedisLink, Reply } from "./link.ts";
import { scripts } from "./scripts.ts";
import { type Entry, entries } from "./stream.ts";

/** A server's lease: renewed every BEAT_MS; a server whose lease ran out is lost (its members leave). */
export const LEASE_MS = 4000;
export const BEAT_MS = 1000;

export interface Registration {
  node: string;
  /** When this copy of the room began (ms): changes when Redis lost its data. */
  epoch: number;
  /** This boot held the name already (it was not taken for lost meanwhile). */
  had: boolean;
}

/** The default server name: the host's, as a name may be written. */
export function defaultNode(): string {
  return (
    hostname()
      .split(".")[0]
      ?.replace(/[^A-Za-z0-9_-]/g, "-")
      .slice(0, 40) || "node"
  );
}

/**
 * Takes the name `want` (or, unless `asked`, `want-2`, `want-3`… when a live
 * server holds it). A name asked for that a live server holds is waited for
 * up to `waitMs` (a server restarted at once finds its old lease still
 * running), then refused.
 */
export async function register(
  link: RedisLink,
  keys: RoomKeys,
  want: string,
  boot: string,
  asked: boolean,
  waitMs: number,
  maxlen: string,
): Promise<Registration> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    await reap(link, keys, maxlen);
    const reply = (await scripts.register.run(
      link,
      [keys.nodes, keys.boots, keys.meta],
      [want, boot, String(LEASE_MS), asked ? "1" : "0", keys.prefix],
    )) as Reply[];
    const [status, node, epoch, had] = reply.map(String);
    if (status === "ok") {
      // Listed for `/rooms` (again after Redis lost its data); a key of its own, outside the room's slot.
      await link.call("SADD", [ROOMS_KEY, keys.room]);
      return { node: node ?? want, epoch: Number(epoch), had: had === "1" };
    }
    if (Date.now() >= deadline) throw new ChatError(`another live server in this room is called ${want}: choose another --node`);
    await Bun.sleep(500);
  }
}

/** A room of the cluster and how many names it holds. */
export interface RoomCount {
  name: string;
  members: number;
}

/**
 * The cluster's rooms with how many names each holds (consoles included).
 * Rooms no live server is in are left out (`here` never): names left by
 * servers that died with no one left to take them out are not counted.
 */
export async function roomCounts(link: RedisLink, here: string): Promise<RoomCount[]> {
  const names = ((await link.call("SMEMBERS", [ROOMS_KEY])) as unknown[]).map(String);
  const [seconds, micros] = ((await link.call("TIME", [])) as unknown[]).map(Number);
  const now = String(Math.floor((seconds ?? 0) * 1000 + (micros ?? 0) / 1000));
  const counted = await Promise.all(
    names.map(async (name) => {
      const keys = roomKeys(name);
      const [live, held] = await Promise.all([link.call("ZCOUNT", [keys.nodes, now, "+inf"]), link.call("HLEN", [keys.names])]);
      return { name, members: Number(live) > 0 ? Number(held) : 0 };
    }),
  );
  return counted.filter((r) => r.members > 0 || r.name === here);
}

/** Renews the lease; false when this server was taken for lost (it must register again). */
export async function beat(link: RedisLink, keys: RoomKeys, node: string, boot: string): Promise<boolean> {
  const reply = await scripts.beat.run(link, [keys.nodes, keys.boots, inboxKey(keys, node)], [node, boot, String(LEASE_MS)]);
  return Number(reply) === 1;
}

/** Takes every server whose lease ran out for lost; returns how many. */
export async function reap(link: RedisLink, keys: RoomKeys, maxlen: string): Promise<number> {
  return Number(await scripts.reap.run(link, [keys.nodes, keys.boots, keys.names, keys.log, keys.info], [maxlen]));
}

/** A stopping server lets go of its name and its members' names. */
export async function unregister(link: RedisLink, keys: RoomKeys, node: string, boot: string): Promise<void> {
  await scripts.unregister.run(link, [keys.nodes, keys.boots, keys.names, keys.info], [node, boot]);
}

/** The number of this boot's last batch Redis applied (0: none, or Redis lost it). */
export async function appliedBatch(link: RedisLink, keys: RoomKeys, boot: string): Promise<number> {
  return Number((await link.call("GET", [pubKey(keys, boot)])) ?? 0) || 0;
}

/** A hash's fields and values (HGETALL as RESP2 pairs or a RESP3 map). */
async function hash(link: RedisLink, key: string): Promise<Map<string, string>> {
  const reply = await link.call("HGETALL", [key]);
  const out = new Map<string, string>();
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), String(reply[i + 1]));
  else for (const [k, v] of Object.entries((reply ?? {}) as Record<string, unknown>)) out.set(k, String(v));
  return out;
}

/** What a server reads of the room before it serves it (and again when it comes back). */
export interface RoomState {
  /** Every name held, as stored (`NODE\tSERIAL\tANNOUNCED\tNAME`), and what each member published (by name key). */
  names: string[];
  info: Map<string, string>;
  /** The topic: text, who set it, when (ms); null when none. */
  topic: { text: string; by: string; at: number } | null;
  /** The bans, as stored (key → value). */
  bans: Map<string, string>;
}

export async function roomState(link: RedisLink, keys: RoomKeys): Promise<RoomState> {
  const [names, info, bans, meta] = await Promise.all([
    hash(link, keys.names),
    hash(link, keys.info),
    hash(link, keys.bans),
    link.call("HMGET", [keys.meta, "topic", "topicBy", "topicAt"]),
  ]);
  const [text, by, at] = Array.isArray(meta) ? meta : [];
  const topic = typeof text === "string" && text !== "" ? { text, by: String(by ?? ""), at: Number(at ?? 0) || Date.now() } : null;
  return { names: [...names.values()], info, topic, bans };
}

/** The first of `count` guest numbers reserved for this server. */
export async function reserveGuests(link: RedisLink, keys: RoomKeys, count: number): Promise<number> {
  return Number(await link.call("HINCRBY", [keys.meta, "guests", String(count)])) - count + 1;
}

/** The entries that hold the room's last `count` lines (oldest first), and the id of the stream's newest entry ("0-0" when empty). */
export async function recentLines(link: RedisLink, keys: RoomKeys, count: number): Promise<{ lines: Entry[]; newest: string }> {
  const lines: Entry[] = [];
  let newest = "0-0";
  let before = "+";
  const page = 1000;
  // An entry may hold several lines (a member's lines in a row): they are counted as lines.
  let held = 0;
  while (held < count) {
    const batch = entries(await link.call("XREVRANGE", [keys.log, before, "-", "COUNT", String(page)]));
    if (batch.length === 0) break;
    if (newest === "0-0") newest = batch[0]?.id ?? newest;
    for (const e of batch) {
      if ((e.t !== "message" && e.t !== "action") || held >= count) continue;
      lines.push(e);
      held += Number(e.c || 1);
    }
    if (batch.length < page) break;
    before = `(${batch[batch.length - 1]?.id}`;
  }
  return { lines: lines.reverse(), newest };
}

/**
 * The room's stream keeps this many events (more when --history asks for
 * more): the history newcomers get, and the window within which a server
 * that falls behind or loses its link catches up without losing a line.
 */
const STREAM_MIN = 100_000;

/** The room's stream keeps STREAM_MIN events, or twice --history when more. */
export function streamLength(history: number): string {
  return String(Math.max(STREAM_MIN, 2 * history));
}
