/**
 * The one way a room's events reach its members, in the order the hub gives
 * them: lines for everyone are gathered into shared batches (Fanout), each
 * member gets them as text or as JSON (docs/events.md), the server's console
 * through the server's output, and every send is watched by flow control.
 */
import { type ChatEvent, eventLine } from "../events.ts";
import type { ModeOutput } from "../modes/mode.ts";
import { decodeLine } from "../text/sanitize.ts";
import { Crowd } from "./crowd.ts";
import { Fanout } from "./fanout.ts";
import type { FanoutBatch } from "./fanout-batch.ts";
import type { RoomFlow } from "./flow.ts";
import type { Ignores } from "./ignores.ts";
import type { Member, Members } from "./members.ts";
import { wireJson, writePlainLinesJson } from "./wire.ts";

const encoder = new TextEncoder();

/** Where a room line stands in the room's order: its number, when it was said (ms), and its id when it is needed. */
export interface Stamp {
  seq: number;
  ts: number;
  id?: string;
}

/** Numbers relayed plain lines (`bytes[start, end)`, `lines` of them, said by `from`) and keeps them; gives the first one's stamp. */
export type RecordLines = (bytes: Uint8Array, start: number, end: number, lines: number, from: Member) => Stamp;

export class Delivery {
  private readonly fanout = new Fanout<Member>((batch) => this.deliver(batch));
  private readonly crowd = new Crowd<Member>();
  private jsonMembers = 0;

  constructor(
    private readonly members: Members,
    private readonly flow: RoomFlow,
    private readonly output: ModeOutput,
    private readonly maxLine: number,
    /** `{"id":"START-`, the start of each room line's JSON. */
    private readonly idHead: Uint8Array,
    /** The hub's: numbers and keeps relayed plain lines. */
    private readonly record: RecordLines,
    /** Who ignores whom: their lines are left out for those members. */
    private readonly ignores: Ignores,
  ) {}

  /** Some member takes JSON events (a room line's id is needed). */
  get json(): boolean {
    return this.jsonMembers > 0;
  }

  /**
   * An event for every member but `except` (and, for a room line, those
   * that ignore its sender); a room line comes with its stamp. Joins and
   * leaves in a crowd are counted (see Crowd).
   */
  broadcast(event: ChatEvent, except?: Member, stamp?: Stamp): void {
    this.output.event(event);
    if (event.type === "rename") this.ignores.renamed(event.from, event.to);
    if ((event.type === "join" || event.type === "leave") && !this.crowd.admit(event, except, Date.now())) return;
    this.toAll(event, except, stamp);
  }

  /** Summaries of the crowds whose window is over (the server's output had each join and leave). */
  tick(now: number): void {
    for (const { event, except } of this.crowd.due(now)) this.toAll(event, except);
  }

  private toAll(event: ChatEvent, except?: Member, stamp?: Stamp): void {
    const json = this.fanout.json ? `${wireJson(event, stamp?.ts ?? Date.now(), stamp?.id)}\n` : undefined;
    const said = event.type === "message" || event.type === "action";
    const hide = said && event.from !== undefined ? this.ignores.of(event.from) : undefined;
    this.fanout.add(`${eventLine(event)}\n`, except, json, hide);
  }

  /** One plain line `from` said, `bytes[start, end)`, relayed as it is (see Fanout.addLine). */
  plainLine(from: Member, bytes: Uint8Array, start: number, end: number): void {
    this.fanout.addLine(from.prefix.bytes, bytes, start, end, from, this.relayed, this.ignores.of(from.name));
    // Without a byte path for plain lines, the server's output takes each as an event.
    if (!this.output.relayed) this.output.event({ type: "message", from: from.name, text: decodeLine(bytes.subarray(start, end)) });
  }

  /** The plain lines at the start of `bytes[start, end)`, many at once (see Fanout.addPlainLines); returns where it stopped. */
  plainLines(from: Member, bytes: Uint8Array, start: number, end: number): number {
    return this.fanout.addPlainLines(from.prefix, bytes, start, end, this.maxLine, from, this.relayed, this.ignores.of(from.name));
  }

  /** An event for one member only (after what was gathered for everyone); not a private message from someone it ignores. */
  tell(m: Member, event: ChatEvent): void {
    if (event.type === "message" && event.from !== undefined && m.ignoring && this.ignores.hides(m, event.from)) return;
    if (event.type === "rename") this.ignores.renamed(event.from, event.to);
    this.fanout.flush();
    if (!m.conn) {
      this.output.event(event);
      return;
    }
    m.conn.send(encoder.encode(m.json ? `${wireJson(event, Date.now())}\n` : `${eventLine(event)}\n`));
    this.flow.watch(m);
  }

  /** Bytes for one member as they are (history, a replay), after what was gathered for everyone. */
  send(m: Member, bytes: Uint8Array): void {
    this.fanout.flush();
    if (!m.conn) return;
    m.conn.send(bytes);
    this.flow.watch(m);
  }

  /** `m` takes JSON from now on (or text again); what was gathered goes out first, as it was. */
  setJson(m: Member, json: boolean): void {
    if (m.json === json) return;
    this.fanout.flush();
    m.json = json;
    this.jsonMembers += json ? 1 : -1;
    this.fanout.setJson(this.jsonMembers > 0);
  }

  flush(): void {
    this.fanout.flush();
  }

  /**
   * A member's read is handled: its lines go out now when some member gets its own copy of them
   * (a sender does not get its own lines back), else with the rest of this event-loop turn's
   * (a thousand members renaming at once: one send to each member, not a thousand).
   */
  readDone(): void {
    if (this.fanout.personal) this.fanout.flush();
  }

  /**
   * Plain lines as relayed (`NAME: TEXT\n` each, one or many): numbered and
   * kept (`record`), printed straight from those bytes, and written as JSON
   * for the members that take it.
   */
  private readonly relayed = (bytes: Uint8Array, start: number, end: number, lines: number, from: Member): void => {
    this.output.relayed?.(bytes, start, end);
    const stamp = this.record(bytes, start, end, lines, from);
    const json = this.fanout.json;
    if (!json) return;
    const at = json.used;
    const prefixLength = from.prefix.bytes.length;
    const wrote = writePlainLinesJson(json, this.idHead, bytes, start, end, lines, prefixLength, stamp.seq, stamp.ts, from.name);
    json.added(at, wrote, from, this.ignores.of(from.name));
  };

  /** A sealed batch to every open member: one shared chunk, or its own copy without the lines it must not get. */
  private deliver(batch: FanoutBatch<Member>): void {
    for (const m of this.members) {
      if (!m.conn?.isOpen) continue;
      const bytes = m.json ? batch.forJson(m) : batch.for(m);
      if (!bytes) continue;
      m.conn.send(bytes);
      this.flow.watch(m);
    }
  }
}
