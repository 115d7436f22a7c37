/**
 * The client's side of a room, one connection at a time: it recognises the
 * room by its greeting, asks for JSON events (docs/events.md), and turns what
 * arrives into `RoomEvent`s: from the JSON objects, or, from a server that
 * does not know `/events`, from its plain lines (the fallback). It follows the
 * user's name, the members (for Tab) and the last room line's id (for a
 * reconnect without gaps). No sockets here: it is fed lines and given a way
 * to send.
 */
import { ACTION_PREFIX, actionText, parseLine } from "./events.ts";
import { parseInput } from "./room/parse.ts";
import { sanitize } from "./text/sanitize.ts";

/** A room's greeting: the first line a room sends to every newcomer. */
export const GREETING = /^\* welcome, you are ([A-Za-z0-9_.-]{1,24}) .*\/nick/;

/** One event of the room as the client renders it (the JSON objects of docs/events.md). */
export interface RoomEvent {
  type: string;
  text: string;
  ts?: string;
  id?: string;
  from?: string;
  to?: string;
  name?: string;
  kind?: string;
  code?: string;
  reason?: string;
  /** A notice of kind `room`: the room moved to. */
  room?: string;
  members?: string[];
  history?: boolean;
  replay?: number;
  complete?: boolean;
}

const STRING_FIELDS = ["ts", "id", "from", "to", "name", "kind", "code", "reason", "text", "room"] as const;

/** Reads one JSON object line; every string is made safe to print (a server is a peer too). */
export function parseEvent(line: string): RoomEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const raw = value as Record<string, unknown>;
  if (typeof raw.type !== "string") return null;
  const event: RoomEvent = { type: sanitize(raw.type), text: "" };
  for (const field of STRING_FIELDS) {
    const v = raw[field];
    if (typeof v === "string") event[field] = sanitize(v);
  }
  if (Array.isArray(raw.members)) event.members = raw.members.filter((m) => typeof m === "string").map(sanitize);
  if (raw.history === true) event.history = true;
  if (typeof raw.replay === "number" && Number.isSafeInteger(raw.replay) && raw.replay >= 0) event.replay = raw.replay;
  if (typeof raw.complete === "boolean") event.complete = raw.complete;
  return event;
}

/**
 * A plain room line as an event (the fallback for servers without `/events`):
 * `** NAME ACTION` is an action; an older server's `* NAME ACTION` stays a notice.
 */
export function eventOfLine(line: string): RoomEvent {
  const event = parseLine(line);
  switch (event.type) {
    case "message":
      return { type: "message", text: event.text, from: event.from, to: event.to };
    case "action":
      return { type: "notice", kind: "action", from: event.from, text: actionText(event.from, event.text) };
    case "notice":
    case "error":
      return { type: event.type, text: event.text };
    default:
      return { type: "notice", text: line.replace(/^\* /, "") };
  }
}

/** The line a plain client sees for this event (the wire format of a room). */
export function plainLine(event: RoomEvent): string {
  switch (event.type) {
    case "message":
      if (event.from === undefined) return event.text;
      return event.to === undefined ? `${event.from}: ${event.text}` : `${event.from} -> ${event.to}: ${event.text}`;
    case "error":
      return `! ${event.text}`;
    default:
      return event.kind === "action" ? `${ACTION_PREFIX}${event.text}` : `* ${event.text}`;
  }
}

/**
 * The plain form of the last `most` room lines shown: enough to recognise a room's
 * history sent as text. Apart, the lines this client said (shown when typed,
 * never sent back): recognised when a replay after a reconnect holds them.
 */
export class SeenLines {
  private readonly lines = new Set<string>();
  private readonly own = new Set<string>();

  constructor(private readonly most = 2000) {}

  add(line: string): void {
    this.remember(this.lines, line);
  }

  has(line: string): boolean {
    return this.lines.has(line);
  }

  said(line: string): void {
    this.remember(this.own, line);
  }

  /** Whether this client said `line` (and so showed it already, as it typed it). */
  hasSaid(line: string): boolean {
    return this.own.has(line);
  }

  private remember(set: Set<string>, line: string): void {
    set.delete(line);
    set.add(line);
    if (set.size > this.most) set.delete(set.values().next().value ?? "");
  }
}

export interface RoomLinkHandlers {
  send: (line: string) => void;
  event: (event: RoomEvent) => void;
  /** The room answered the `/events` request (json) or refused it (text); input may flow. */
  settled: (format: "json" | "text") => void;
}

type Phase = "asking" | "json" | "text";

export class RoomLink {
  me: string;
  readonly members = new Set<string>();
  private phase: Phase = "asking";
  /** Plain lines that came before the answer: replayed as JSON, or shown if the answer is no. */
  private held: string[] = [];
  /** A `ready` whose replayed lines are still coming: they are shown together, once all came. */
  private replay: { ready: RoomEvent; lines: RoomEvent[]; left: number } | null = null;

  /** The first `ready` was handed on (the room answered `/events json`). */
  private answered = false;
  /** A `/join` sent ahead of the events request: its refusal (an error) is not the request's. */
  private rejoining: string | null;

  /**
   * `seen`: room lines shown so far, kept across reconnects (see showWindow).
   * `room`: the room the connection was in before a reconnect, when it had
   * moved (`/join`): joined again first, so that the events asked for after
   * the last line seen are that room's.
   */
  constructor(
    greeting: string,
    private readonly handlers: RoomLinkHandlers,
    private lastId?: string,
    private readonly seen = new SeenLines(),
    room?: string,
  ) {
    this.me = GREETING.exec(greeting)?.[1] ?? "";
    this.rejoining = room ?? null;
    if (room) handlers.send(`/join ${room}`);
    handlers.send(lastId ? `/events json after=${lastId}` : "/events json");
  }

  /** The id of the last room line seen (on any connection so far). */
  get last(): string | undefined {
    return this.lastId;
  }

  get format(): Phase {
    return this.phase;
  }

  /** How a line the user typed shows on their own screen (the room does not send it back); null for commands. */
  own(line: string): RoomEvent | null {
    // Read as the room reads it: `/ME  waves` is an action, `/me` alone is not.
    const input = parseInput(line);
    let event: RoomEvent | null = null;
    if (input.kind === "me") event = { type: "notice", kind: "action", from: this.me, text: `${this.me} ${input.text}` };
    else if (input.kind === "say" && input.text.trim() !== "") event = { type: "message", from: this.me, text: input.text };
    if (event) this.seen.said(plainLine(event));
    return event;
  }

  line(line: string): void {
    if (this.phase === "text") {
      this.text(line);
      return;
    }
    const event = line.startsWith("{") ? parseEvent(line) : null;
    if (this.phase === "json") {
      this.json(event ?? { type: "message", text: line });
      return;
    }
    if (event?.type === "ready") {
      this.phase = "json";
      this.json(event);
    } else if (this.rejoining !== null && line.startsWith(`* you are in room ${this.rejoining} now `)) {
      // Back in the room: what came before was the first room's (its history), not this one's.
      this.held = [line];
      this.rejoining = null;
    } else if (line.startsWith("! ") && this.rejoining !== null) {
      // The `/join`'s answer: back in the room it is (said nothing), or not let in (shown).
      if (line !== `! you are already in ${this.rejoining}`) this.held.push(line);
      this.rejoining = null;
    } else if (line.startsWith("! ")) {
      // A server without `/events`: its answer is the first error (nothing else could fail yet).
      this.phase = "text";
      for (const held of this.held.splice(0)) this.text(held);
      this.handlers.settled("text");
    } else {
      this.held.push(line);
    }
  }

  /**
   * The plain lines that came between the greeting and `ready`: a room's
   * history as text, then whatever happened meanwhile. Room lines among
   * them were shown before (a reconnect), said by this client, or were just replayed as JSON; the
   * rest (joins, leaves, notices) are shown now, in their order.
   */
  private showWindow(): void {
    for (const line of this.held.splice(0)) {
      if (!this.seen.has(line) && !this.seen.hasSaid(line)) this.handlers.event(eventOfLine(line));
    }
  }

  private text(line: string): void {
    const event = eventOfLine(line);
    // Without structured events the only way to follow one's name is the notice text
    // (an action, `** NAME is now …`, is never a rename).
    const renamed =
      event.type === "notice" && event.kind === undefined ? /^(?:you are now (\S+)|(\S+) is now (\S+))$/.exec(event.text) : null;
    if (renamed?.[1]) this.me = renamed[1];
    else if (renamed?.[2] && renamed[2] === this.me && renamed[3]) this.me = renamed[3];
    this.handlers.event(event);
  }

  /**
   * An event of a room that speaks JSON. A `ready` and the lines it replays
   * are taken whole and then handed on, without the lines this client said
   * itself (a replay after a reconnect holds those said after the last line
   * it received), and `ready` counts what is handed on.
   */
  private json(event: RoomEvent): void {
    const replay = this.replay;
    if (event.type === "ready") {
      this.replay = { ready: event, lines: [], left: event.replay ?? 0 };
      if (this.replay.left === 0) this.replayed();
    } else if (replay && event.history) {
      if (!this.seen.hasSaid(plainLine(event))) replay.lines.push(event);
      if (--replay.left === 0) this.replayed();
    } else this.handle(event);
  }

  private replayed(): void {
    const replay = this.replay;
    if (!replay) return;
    this.replay = null;
    const answered = this.answered;
    this.answered = true;
    this.handle({ ...replay.ready, replay: replay.lines.length });
    for (const event of replay.lines) this.handle(event);
    if (answered) return;
    this.handlers.settled("json");
    this.showWindow();
  }

  private handle(event: RoomEvent): void {
    if (event.id) this.lastId = event.id;
    this.track(event);
    this.handlers.event(event);
    if (event.id) this.seen.add(plainLine(event));
  }

  /** Names, for Tab and for knowing who "me" is. */
  private track(event: RoomEvent): void {
    const { type, kind } = event;
    if (type === "ready") {
      if (event.name) this.me = event.name;
      this.members.clear();
      for (const m of event.members ?? []) this.members.add(m);
    } else if (type === "join" && event.name) this.members.add(event.name);
    else if (type === "leave" && event.name) this.members.delete(event.name);
    else if (kind === "rename" && event.from && event.to) {
      this.members.delete(event.from);
      this.members.add(event.to);
      if (event.from === this.me) this.me = event.to;
    } else if (kind === "who" && event.members) {
      // A big room's reply lists only some: it adds to what joins and leaves tell.
      for (const m of event.members) this.members.add(m);
    }
  }
}
