/**
 * One room over several servers, through Redis (hub.ts has the contract).
 * Every event goes into the room's stream (publisher.ts, scripts.ts), and
 * every server delivers the stream as it reads it back, its own members'
 * lines included: so every member everywhere sees one order. Private
 * messages and kicks go to the inbox of the server the target is on. Names
 * are claimed in Redis before they are used. The server's lease, the link's
 * losses and returns are in presence.ts.
 */
import { ChatError } from "../errors.ts";
import type { ChatEvent, LeaveReason } from "../events.ts";
import type { Ban, BanList } from "../room/bans.ts";
import { Delivery } from "../room/delivery.ts";
import type { Hub, HubParts, Topic } from "../room/hub.ts";
import { KeptLines } from "../room/kept.ts";
import type { Member, Members } from "../room/members.ts";
import type { MemberInfo } from "../room/moderation.ts";
import { decodeLine } from "../text/sanitize.ts";
import { Arrivals } from "./arrivals.ts";
import { RoomChanges } from "./changes.ts";
import { Directory, published } from "./directory.ts";
import type { Reply } from "./link.ts";
import { type Op, Publisher, type PublisherContext } from "./publisher.ts";
import { encodeInfo, Roster } from "./roster.ts";
import type { Entry } from "./stream.ts";

const encoder = new TextEncoder();

/** The hub's cluster presence: what its publisher needs (keys, boot, node, fenced) and when to start and stop. */
export interface HubCluster extends Omit<PublisherContext, "busy"> {
  /** See Hub.start and Hub.stop. */
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

export class RedisHub implements Hub {
  readonly delivery: Delivery;
  readonly kept: KeptLines;
  readonly roster = new Roster();
  readonly publisher: Publisher;
  /** Away, topic, bans, kicks, mutes (and the topic and bans as this server knows them). */
  readonly changes: RoomChanges;
  /** This server's members by serial (the console is 0). */
  readonly local = new Map<number, Member>();
  /** The last batch of this server's that came back through the stream (see Publisher.resume). */
  seenOwn = 0;
  private readonly members: Members;
  private readonly arrivals: Arrivals;
  /** Lines this server wrote (each line's number: see scripts.ts). */
  private lines = 0;
  /** What waits for a member's rename to be settled (its join). */
  private readonly afterName = new Map<Member, () => void>();
  private readonly directory: Directory;

  constructor(
    private readonly parts: HubParts,
    private readonly cluster: HubCluster,
    epoch: number,
    /** A guest name no other server gives (see Members.add). */
    private readonly guestName: () => string,
  ) {
    this.members = parts.members;
    this.kept = new KeptLines(epoch, parts.options);
    const idHead = encoder.encode(`{"id":"${epoch}-`);
    const relayed = () => {
      throw new Error("a cluster room relays lines from its stream, not as bytes");
    };
    this.delivery = new Delivery(parts.members, parts.flow, parts.output, parts.maxLine, idHead, relayed, parts.ignores);
    this.directory = new Directory(parts.members, this.roster, cluster.node);
    this.changes = new RoomChanges((...op) => this.push(...op), parts.members.console, this.delivery);
    this.publisher = new Publisher({ ...cluster, busy: (busy) => parts.flow.hold(busy) });
    this.local.set(0, parts.members.console);
    this.arrivals = new Arrivals({
      delivery: this.delivery,
      kept: this.kept,
      roster: this.roster,
      members: parts.members,
      local: this.local,
      node: cluster.node,
      changes: this.changes,
    });
  }

  get last(): number {
    return this.kept.last;
  }

  get console(): Member {
    return this.members.console;
  }

  start(): Promise<void> {
    return this.cluster.start();
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }

  /** Registers the console's name and announces it to the other servers; fails when the name is taken. */
  claimConsole(): Promise<void> {
    const console = this.members.console;
    // Not in this room (another of the server's rooms has it): it claims its name when it joins.
    if (this.members.find(console.name) !== console) {
      this.local.delete(console.serial);
      return Promise.resolve();
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const done = (result: Reply | undefined) => {
      if (result !== 0) return resolve();
      // Never in the room: its stop must not say it left.
      this.local.delete(console.serial);
      reject(new ChatError(`the name ${console.name} is taken in this room: choose another --name`));
    };
    this.push("join", console, console.name, "1", "", done, encodeInfo(published(console)));
    return promise;
  }

  say(from: Member, text: string): void {
    this.line("message", from, text);
  }

  act(from: Member, text: string): void {
    this.line("action", from, text);
  }

  sayPlain(from: Member, bytes: Uint8Array, start: number, end: number): void {
    this.line("message", from, decodeLine(bytes.subarray(start, end)));
  }

  /** Lines go one at a time (each is a string in the stream). */
  sayPlainLines(_from: Member, _bytes: Uint8Array, start: number): number {
    return start;
  }

  whisper(from: Member, to: string, text: string, answer = (event: ChatEvent) => this.delivery.tell(from, event)): void {
    this.push("tell", from, to, from.name, text, (result) => {
      if (typeof result === "string") answer({ type: "message", from: from.name, to: result, text });
      else if (result === 0) answer({ type: "error", text: `no one called ${to} is here` });
    });
  }

  arrive(m: Member): void {
    this.local.set(m.serial, m);
    this.claim(m);
  }

  join(m: Member): void {
    this.local.set(m.serial, m);
    // A newcomer's join follows its /nick: it goes out under the new name, once Redis gave it.
    if (m.waiting > 0) {
      this.afterName.set(m, () => this.join(m));
      return;
    }
    this.publisher.push(this.claimOp(m, "0"));
  }

  leave(m: Member, reason: LeaveReason): void {
    if (this.local.get(m.serial) !== m) return;
    this.local.delete(m.serial);
    this.afterName.delete(m);
    this.push("leave", m, m.name, m.announced ? "1" : "0", reason, undefined, m.parting);
  }

  rename(m: Member, to: string): void {
    const from = m.name;
    const announced = m.announced;
    m.waiting++;
    m.conn?.pause("name");
    const settled = (result: Reply | undefined) => {
      m.waiting--;
      if (result === 0) this.delivery.tell(m, { type: "error", code: "name-taken", text: `the name ${to} is taken` });
      else if (this.local.get(m.serial) === m) {
        this.members.rename(m, to);
        if (!announced) this.delivery.tell(m, { type: "rename", from, to, self: true });
      }
      const next = m.waiting === 0 ? this.afterName.get(m) : undefined;
      this.afterName.delete(m);
      next?.();
      this.parts.release(m);
    };
    this.publisher.push({ op: "rename", a: from, b: to, s: m.serial, x: announced ? "1" : "0", done: settled, refused: () => settled(0) });
  }

  get topic(): Topic | null {
    return this.changes.topic;
  }

  get bans(): BanList {
    return this.changes.bans;
  }

  kick(name: string, reason: string): void {
    this.changes.kick(name, reason);
  }

  mute(name: string, on: boolean): void {
    this.changes.mute(name, on);
  }

  away(m: Member, text: string | null): void {
    this.changes.away(m, text);
  }

  setTopic(by: Member, text: string): void {
    this.changes.setTopic(by, text);
  }

  ban(ban: Ban): void {
    this.changes.ban(ban);
  }

  unban(key: string): void {
    this.changes.unban(key);
  }

  whois(name: string): MemberInfo | undefined {
    return this.directory.whois(name);
  }

  notice(event: ChatEvent): void {
    this.delivery.broadcast(event);
    // A server stopping: the other servers see its members leave now, not once their connections have closed.
    if (event.type === "notice" && event.kind === "shutdown") {
      for (const m of this.local.values()) if (m.conn) this.leave(m, "shutdown");
    }
  }

  history(n: number, send: (bytes: Uint8Array) => void): void {
    this.kept.history(n, send);
  }

  replay(m: Member, after: string | undefined, send: (reply: Uint8Array) => void): void {
    this.kept.replay(m, this.names(), after, send);
  }

  names(): readonly string[] {
    return this.directory.names();
  }

  holder(name: string): string | undefined {
    return this.directory.holder(name);
  }

  /** Registers `m`'s name (a newcomer's, or every member's when this server comes back). */
  claim(m: Member): void {
    this.publisher.push(this.claimOp(m));
  }

  /** The operations that put every member of this server back in the room (after a lost link). */
  rejoin(): Op[] {
    return [...this.local.values()].map((m) => this.claimOp(m));
  }

  /** Hands an entry read from the room's stream or this server's inbox to the members here (`past`: see Arrivals.apply). */
  apply(e: Entry, past = false): void {
    if (e.n === this.cluster.node() && e.q) this.seenOwn = Math.max(this.seenOwn, Number(e.q));
    this.arrivals.apply(e, past);
  }

  /** This server's receivers hold its room up (the stream waits in Redis meanwhile). */
  get behind(): boolean {
    return this.parts.flow.behind;
  }

  /** `m`'s name was taken on another server meanwhile: it gets a guest name and is told (as IRC servers do). */
  private nameLost(m: Member, name: string): void {
    if (this.local.get(m.serial) !== m || m.name !== name || !m.conn) return;
    const guest = this.guestName();
    this.members.rename(m, guest);
    this.delivery.tell(m, {
      type: "error",
      code: "name-taken",
      text: `the name ${name} was taken on another server: you are now ${guest}`,
    });
    this.claim(m);
  }

  private line(op: "message" | "action", from: Member, text: string): void {
    this.push(op, from, from.name, String(++this.lines), text);
  }

  /** `m`'s name claimed: announced (`join`, again after a lost link when `k` is 1) or not yet (`claim`). */
  private claimOp(m: Member, k = "1"): Op {
    const name = m.name;
    const done = (result: Reply | undefined) => result === 0 && this.nameLost(m, name);
    return m.announced ? this.op("join", m, name, k, m.peer, done, encodeInfo(published(m))) : this.op("claim", m, name, "", "", done);
  }

  private push(op: Op["op"], m: Member, a: string, b: string, x: string, done?: Op["done"], y?: string): void {
    this.publisher.push(this.op(op, m, a, b, x, done, y));
  }

  private op(op: Op["op"], m: Member, a: string, b: string, x: string, done?: Op["done"], y?: string): Op {
    const refused = (why: string) => this.delivery.tell(m, { type: "error", text: `not sent: ${why}` });
    return { op, a, b, s: m.serial, x, y, done, refused };
  }
}
