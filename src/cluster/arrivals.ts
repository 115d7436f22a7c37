/**
 * What a cluster room's stream (and this server's inbox) brings, handed to
 * the members here: room lines (each once, even when a writer had to send
 * it again), joins, leaves and renames (which also keep the roster of the
 * other servers' members), private messages and kicks.
 */
import type { ChatEvent, LeaveReason } from "../events.ts";
import { eventLine } from "../events.ts";
import type { Delivery } from "../room/delivery.ts";
import type { KeptLines } from "../room/kept.ts";
import type { Member, Members } from "../room/members.ts";
import type { Roster } from "./roster.ts";
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
}

export class Arrivals {
  /** The last line number read back from each writer's boot: a line read twice is skipped. */
  private readonly lastLine = new Map<string, number>();

  constructor(private readonly at: ArrivalsAt) {}

  /** One entry, in the stream's order. */
  apply(e: Entry): void {
    const own = e.n === this.at.node();
    const sender = own ? this.at.local.get(Number(e.s)) : undefined;
    if (e.t === "message" || e.t === "action") this.roomLine(e, sender);
    else if (e.t === "join") this.joined(e, own, sender);
    else if (e.t === "leave") this.left(e, own);
    else if (e.t === "rename") {
      if (!own) this.at.roster.rename(e.f, e.x, e.n);
      this.at.delivery.broadcast({ type: "rename", from: e.f, to: e.x });
    } else if (e.t === "tell") this.tellHere(e);
    else if (e.t === "kick") this.kickHere(e.to);
  }

  private joined(e: Entry, own: boolean, newcomer: Member | undefined): void {
    // A server that came back announces its members again: only those not known here are shown.
    const known = own ? true : !this.at.roster.add(e.f, e.n);
    if (e.k === "1" && known) return;
    this.at.delivery.broadcast({ type: "join", name: e.f, peer: e.x, node: e.n }, newcomer);
  }

  private left(e: Entry, own: boolean): void {
    if (!own) this.at.roster.remove(e.f, e.n);
    // This server was taken for lost while its members stayed: they are told nothing of leaving.
    else if (e.x === "lost") return;
    this.at.delivery.broadcast({ type: "leave", name: e.f, reason: e.x as LeaveReason, node: e.n });
  }

  private roomLine(e: Entry, sender: Member | undefined): void {
    const u = Number(e.u);
    if (e.B && u <= (this.lastLine.get(e.B) ?? 0)) return;
    if (e.B) this.lastLine.set(e.B, u);
    const seq = Number(e.o);
    const missed = this.at.kept.last > 0 ? seq - this.at.kept.last - 1 : 0;
    if (missed > 0)
      this.at.delivery.broadcast({ type: "notice", text: `${missed} lines of the room were missed here (this server fell behind)` });
    const event: ChatEvent = e.t === "action" ? { type: "action", from: e.f, text: e.x } : { type: "message", from: e.f, text: e.x };
    const ts = idTime(e.id);
    this.at.kept.at(seq, encoder.encode(`${eventLine(event)}\n`), sender?.serial ?? -1, ts);
    this.at.delivery.broadcast(event, sender, { seq, ts, id: this.at.kept.id(seq) });
  }

  private tellHere(e: Entry): void {
    const target = this.at.members.find(e.to);
    if (target) this.at.delivery.tell(target, { type: "message", from: e.f, to: target.name, text: e.x });
  }

  private kickHere(name: string): void {
    const target = this.at.members.find(name);
    if (!target?.conn) return;
    this.at.delivery.tell(target, { type: "error", code: "kicked", text: "you were kicked" });
    target.conn.end("kicked");
  }
}
