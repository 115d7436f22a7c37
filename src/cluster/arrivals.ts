/**
 * What a cluster room's stream (and this server's inbox) brings, handed to
 * the members here: room lines (each once, even when a writer had to send
 * it again), joins, leaves, renames and aways (which also keep the roster of
 * the other servers' members), the topic, bans; and from the inbox private
 * messages, kicks and mutes.
 */
import type { ChatEvent, LeaveReason } from "../events.ts";
import { eventLine } from "../events.ts";
import { banEvent, decodeBan } from "../room/bans.ts";
import type { Delivery } from "../room/delivery.ts";
import type { KeptLines } from "../room/kept.ts";
import type { Member, Members } from "../room/members.ts";
import { banHere, kickHere, muteHere } from "../room/moderation.ts";
import type { RoomChanges } from "./changes.ts";
import { decodeInfo, type Roster } from "./roster.ts";
import { type Entry, idTime } from "./stream.ts";

const encoder = new TextEncoder();

export interface ArrivalsAt {
  delivery: Delivery;
  kept: KeptLines;
  roster: Roster;
  members: Members;
  /** This server's members by serial. */
  local: ReadonlyMap<number, Member>;
  node: () => string;
  /** The topic and the bans as this server knows them. */
  changes: RoomChanges;
}

export class Arrivals {
  /** The last line number read back from each writer's boot: a line read twice is skipped. */
  private readonly lastLine = new Map<string, number>();

  constructor(private readonly at: ArrivalsAt) {}

  /** One entry, in the stream's order; `past`: a line said before this server was in the room (kept, not delivered). */
  apply(e: Entry, past = false): void {
    const own = e.n === this.at.node();
    const sender = own ? this.at.local.get(Number(e.s)) : undefined;
    if (e.t === "message" || e.t === "action") this.roomLine(e, sender, past);
    else if (e.t === "join") this.joined(e, own, sender);
    else if (e.t === "leave") this.left(e, own);
    else if (e.t === "rename") {
      if (!own) this.at.roster.rename(e.f, e.x, e.n);
      this.at.delivery.broadcast({ type: "rename", from: e.f, to: e.x });
    } else if (e.t === "away") this.away(e, own);
    else if (e.t === "topic") this.topic(e);
    else if (e.t === "ban" || e.t === "unban") this.ban(e);
    else this.inbox(e);
  }

  /** What another server's console did to a member here, or a private message for it. */
  private inbox(e: Entry): void {
    const target = this.at.members.find(e.to);
    if (!target) return;
    if (e.t === "tell") this.at.delivery.tell(target, { type: "message", from: e.f, to: target.name, text: e.x });
    else if (e.t === "kick") kickHere(this.at.delivery, target, e.x);
    else if (e.t === "mute") muteHere(this.at.delivery, target, e.x === "1");
  }

  private away(e: Entry, own: boolean): void {
    const away = e.k === "1" ? e.x : null;
    if (!own) this.at.roster.setAway(e.f, e.n, away);
    this.at.delivery.broadcast({ type: "away", name: e.f, away: away !== null, message: away || undefined });
  }

  private topic(e: Entry): void {
    const topic = e.x ? { text: e.x, by: e.f, at: idTime(e.id) } : null;
    this.at.changes.topic = topic;
    this.at.delivery.broadcast({ type: "topic", topic: e.x, by: e.f, at: idTime(e.id) });
  }

  /** A ban set or lifted on any server: every server's console is told, and the members here it covers leave. */
  private ban(e: Entry): void {
    const console = this.at.members.console;
    if (e.t === "unban") {
      const lifted = this.at.changes.bans.lift(e.f);
      if (lifted) this.at.delivery.tell(console, banEvent(lifted, true));
      return;
    }
    const ban = decodeBan(e.f, e.m);
    if (!ban) return;
    this.at.changes.bans.set(ban);
    this.at.delivery.tell(console, banEvent(ban));
    banHere(this.at.delivery, this.at.members, ban);
  }

  private joined(e: Entry, own: boolean, newcomer: Member | undefined): void {
    // A server that came back announces its members again: only those not known here are shown.
    const known = own ? true : !this.at.roster.add(e.f, e.n, decodeInfo(e.m));
    if (e.k === "1" && known) return;
    this.at.delivery.broadcast({ type: "join", name: e.f, peer: e.x, node: e.n }, newcomer);
  }

  private left(e: Entry, own: boolean): void {
    if (!own) this.at.roster.remove(e.f, e.n);
    // This server was taken for lost while its members stayed: they are told nothing of leaving.
    else if (e.x === "lost") return;
    this.at.delivery.broadcast({ type: "leave", name: e.f, reason: e.x as LeaveReason, message: e.m || undefined, node: e.n });
  }

  /** An entry's lines (one, or a member's lines in a row), each once. */
  private roomLine(e: Entry, sender: Member | undefined, past: boolean): void {
    const ts = idTime(e.id);
    const texts = e.c ? e.x.split("\n") : [e.x];
    texts.forEach((text, i) => {
      this.oneLine(e, Number(e.o) + i, Number(e.u) + i, text, ts, sender, past);
    });
  }

  private oneLine(e: Entry, seq: number, u: number, text: string, ts: number, sender: Member | undefined, past: boolean): void {
    if (e.B && u <= (this.lastLine.get(e.B) ?? 0)) return;
    if (e.B) this.lastLine.set(e.B, u);
    const missed = this.at.kept.last > 0 ? seq - this.at.kept.last - 1 : 0;
    if (missed > 0 && !past)
      this.at.delivery.broadcast({ type: "notice", text: `${missed} lines of the room were missed here (this server fell behind)` });
    const event: ChatEvent = e.t === "action" ? { type: "action", from: e.f, text } : { type: "message", from: e.f, text };
    const line = eventLine(event);
    this.at.kept.at(seq, encoder.encode(`${line}\n`), sender?.serial ?? -1, ts);
    // The room's history, read when this server came in: newcomers get it; the server's output had it already (or never).
    if (past) return;
    // The id is made only for members that take JSON.
    this.at.delivery.broadcast(event, sender, { seq, ts, id: this.at.delivery.json ? this.at.kept.id(seq) : undefined });
  }
}
