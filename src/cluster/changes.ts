/**
 * What the members and the console change about a cluster room besides its
 * lines: away, the topic, bans, kicks and mutes. Each is an operation for
 * the room's stream (or, for a kick or a mute, the target's server's inbox);
 * what comes back is applied by Arrivals, on every server alike. The topic
 * and the bans kept here are this server's copy of the room's.
 */
import type { ChatEvent } from "../events.ts";
import { type Ban, BanList, encodeBan } from "../room/bans.ts";
import type { Delivery } from "../room/delivery.ts";
import type { Topic } from "../room/hub.ts";
import type { Member } from "../room/members.ts";
import { published } from "./directory.ts";
import type { Reply } from "./link.ts";
import type { Op } from "./publisher.ts";
import { encodeInfo } from "./roster.ts";

/** Publishes one operation for `m` (see RedisHub.op). */
export type Push = (
  op: Op["op"],
  m: Member,
  a: string,
  b: string,
  x: string,
  done?: (result: Reply | undefined) => void,
  y?: string,
) => void;

export class RoomChanges {
  readonly bans = new BanList();
  topic: Topic | null = null;

  constructor(
    private readonly push: Push,
    private readonly console: Member,
    private readonly delivery: Delivery,
  ) {}

  /** Known here at once; the room is told in its order (and the other servers learn it then). */
  away(m: Member, text: string | null): void {
    m.away = text;
    this.push("away", m, m.name, text === null ? "0" : "1", text ?? "", undefined, encodeInfo(published(m)));
  }

  /** In force on every server (this one included) once it came back through the stream. */
  setTopic(by: Member, text: string): void {
    this.push("topic", by, by.name, String(Date.now()), text);
  }

  ban(ban: Ban): void {
    this.push("ban", this.console, ban.key, String(Date.now()), ban.reason, undefined, encodeBan(ban));
  }

  unban(key: string): void {
    this.push("unban", this.console, key, "", "");
  }

  kick(name: string, reason: string): void {
    this.toMember("kick", name, reason);
  }

  mute(name: string, on: boolean): void {
    const told = (exact: string): ChatEvent => ({ type: "notice", text: `${exact} is ${on ? "muted" : "no longer muted"}` });
    this.toMember("mute", name, on ? "1" : "0", told);
  }

  /** What Redis holds of the topic and the bans (at start, and when the link is back). */
  load(topic: Topic | null, bans: ReadonlyMap<string, string>): void {
    this.topic = topic;
    this.bans.replace(bans);
  }

  /** What the console does to the member called `name`, on whichever server: told when no one is, or `told` once done. */
  private toMember(op: "kick" | "mute", name: string, x: string, told?: (exact: string) => ChatEvent): void {
    this.push(op, this.console, name, "", x, (result) => {
      if (result === 0) this.delivery.tell(this.console, { type: "error", text: `no one called ${name} is here` });
      else if (told && typeof result === "string") this.delivery.tell(this.console, told(result));
    });
  }
}
