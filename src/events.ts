/**
 * What happens in a conversation, as structured events, and their two
 * renderings: the plain line a participant sees (the wire format of a room)
 * and the JSON object of `--json`. The client parses room lines back into
 * events with `parseLine`.
 */
export type LeaveReason = "quit" | "closed" | "too slow" | "timed out" | "kicked" | "banned" | "error" | "shutdown" | "lost" | "moved";

/** Notices a client acts on (see docs/events.md); the rest have no kind. */
export type NoticeKind = "welcome" | "who" | "whois" | "motd" | "bye" | "shutdown" | "crowd" | "room" | "rooms";
/** Errors a client acts on (see docs/events.md); the rest have no code. */
export type ErrorCode =
  | "name-taken"
  | "name-invalid"
  | "name-banned"
  | "kicked"
  | "banned"
  | "muted"
  | "timed-out"
  | "unknown-command"
  | "line-cut";

/** What `/whois` tells of a member, as JSON: `since` ISO-8601, `idle` seconds (known on its own server only), `peer` for the console only. */
export interface WhoisFields {
  name: string;
  since?: string;
  idle?: number;
  away?: string;
  node?: string;
  peer?: string;
}

export type ChatEvent =
  | { type: "message"; from?: string; to?: string; text: string }
  | { type: "action"; from: string; text: string }
  /**
   * `members`, `away`: a `/who` (names, and those of them away); `whois`: a `/whois`;
   * `room`: the room the member is now in (`/join`), or with `rooms` (names and counts) a `/rooms`.
   */
  | {
      type: "notice";
      text: string;
      kind?: NoticeKind;
      members?: string[];
      away?: string[];
      whois?: WhoisFields;
      room?: string;
      rooms?: { name: string; members: number }[];
    }
  | { type: "error"; text: string; code?: ErrorCode }
  /** `node`: the server the member is connected to, in a room over several servers. */
  | { type: "join"; name: string; peer: string; node?: string }
  /** `peer` is known on the member's own server only; `message`: its `/quit TEXT`, or the reason it was kicked or banned. */
  | { type: "leave"; name: string; peer?: string; reason: LeaveReason; message?: string; node?: string }
  /** `self`: told to the renamed member alone, before the room knows it (`you are now NAME`). */
  | { type: "rename"; from: string; to: string; self?: boolean }
  /** `/away [TEXT]` (`away`, with its text when it gave one) and `/back`. */
  | { type: "away"; name: string; away: boolean; message?: string }
  /** The topic set by `by` (empty: cleared) at `at` (ms); `current`: the topic as it is, shown to a newcomer or on `/topic`. */
  | { type: "topic"; topic: string; by: string; at: number; current?: boolean }
  /** A ban set (or `lifted`) on a name or an address block, until a time (ms) or until lifted: the console's record. */
  | { type: "ban"; target: string; until?: number; reason?: string; by: string; lifted?: boolean };

/** What the server itself says in `NAME left (…)`: a member's `/quit TEXT` saying the same is shown quoted. */
const SERVER_REASONS = new Set(["too slow", "connection lost", "server lost"]);

/** ` (TEXT)` after a leave; a member's own text that reads as one of the server's reasons is quoted, so it cannot pass for one. */
function because(message: string | undefined, own: boolean): string {
  if (!message) return "";
  const reads = own && SERVER_REASONS.has(message.trim().replace(/\s+/g, " ").toLowerCase());
  return reads ? ` (${JSON.stringify(message)})` : ` (${message})`;
}

function leaveText(name: string, reason: LeaveReason, message?: string): string {
  switch (reason) {
    case "timed out":
      return `${name} timed out`;
    case "kicked":
      return `${name} was kicked${because(message, false)}`;
    case "banned":
      return `${name} was banned${because(message, false)}`;
    case "quit":
      return `${name} left${because(message, true)}`;
    case "too slow":
      return `${name} left (too slow)`;
    case "error":
      return `${name} left (connection lost)`;
    case "lost":
      return `${name} left (server lost)`;
    case "moved":
      return `${name} left (joined ${message ?? "another room"})`;
    default:
      return `${name} left`;
  }
}

/**
 * An action (`/me`) goes over the wire as `** NAME ACTION`: never `* `, so no
 * action can pass for a notice of the server (`/me was kicked`).
 */
export const ACTION_PREFIX = "** ";

/** An action's text without its prefix (the `text` of its JSON object): `alice waves`. */
export function actionText(from: string, text: string): string {
  return `${from} ${text}`;
}

/** The line as a room participant receives it (no newline). */
export function eventLine(event: ChatEvent): string {
  switch (event.type) {
    case "message":
      if (event.from === undefined) return event.text;
      return event.to === undefined ? `${event.from}: ${event.text}` : `${event.from} -> ${event.to}: ${event.text}`;
    case "action":
      return `${ACTION_PREFIX}${actionText(event.from, event.text)}`;
    case "notice":
      return `* ${event.text}`;
    case "error":
      return `! ${event.text}`;
    case "join":
      return `* ${event.name} joined`;
    case "leave":
      return `* ${leaveText(event.name, event.reason, event.message)}`;
    case "rename":
      return event.self ? `* you are now ${event.to}` : `* ${event.from} is now ${event.to}`;
    default:
      return `* ${roomStateText(event)}`;
  }
}

/**
 * The text of an away, topic or ban event. A member's own words (an away
 * text, a topic) always come last, after who said them, so that they cannot
 * pass for anything the server says.
 */
function roomStateText(event: Extract<ChatEvent, { type: "away" | "topic" | "ban" }>): string {
  switch (event.type) {
    case "away":
      if (!event.away) return `${event.name} is back`;
      return event.message ? `${event.name} is away: ${event.message}` : `${event.name} is away`;
    case "topic":
      if (event.current) return event.topic ? `topic (set by ${event.by}): ${event.topic}` : "no topic is set";
      return event.topic ? `${event.by} set the topic: ${event.topic}` : `${event.by} cleared the topic`;
    case "ban": {
      if (event.lifted) return `${event.target} is no longer banned`;
      const until = event.until === undefined ? " until /unban" : ` until ${utcTime(event.until)}`;
      return `${event.target} is banned${until}${event.reason ? `: ${event.reason}` : ""}`;
    }
  }
}

/** A time as every member reads it alike: `2026-12-02 10:02:11 UTC`. */
export function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * The JSON form of `--json`: every object has `ts` and `type`; actions and
 * renames are notices with a `kind` (and the participants named), joins and
 * leaves carry the peer. A room's clients get the shapes of room/wire.ts.
 */
export function eventJson(event: ChatEvent, ts: Date, room?: string): string {
  const fields = jsonFields(event, ts.toISOString());
  // A server's rooms other than its first: the event says which it came from.
  return JSON.stringify(room === undefined ? fields : { ...fields, room });
}

function jsonFields(event: ChatEvent, ts: string): Record<string, unknown> {
  switch (event.type) {
    case "action":
      return { ts, type: "notice", kind: "action", text: actionText(event.from, event.text), from: event.from };
    case "rename": {
      const { from, to } = event;
      return { ts, type: "notice", kind: "rename", text: eventLine(event).slice(2), from, to };
    }
    case "away":
    case "topic":
    case "ban":
      return { ts, ...stateFields(event) };
    default:
      return { ts, ...event };
  }
}

/** The JSON fields of an away, topic or ban event (times in ISO-8601, and the plain text). */
export function stateFields(event: Extract<ChatEvent, { type: "away" | "topic" | "ban" }>): Record<string, unknown> {
  const text = roomStateText(event);
  switch (event.type) {
    case "away":
      return { type: "away", name: event.name, away: event.away, message: event.away ? event.message : undefined, text };
    case "topic": {
      const { topic, by, current } = event;
      return { type: "topic", topic, by, at: new Date(event.at).toISOString(), current: current || undefined, text };
    }
    case "ban": {
      const until = event.until === undefined ? undefined : new Date(event.until).toISOString();
      return {
        type: "ban",
        target: event.target,
        until,
        reason: event.reason || undefined,
        by: event.by,
        lifted: event.lifted || undefined,
        text,
      };
    }
  }
}

const NAME = "[A-Za-z0-9_.-]{1,24}";
const PRIVATE = new RegExp(`^(${NAME}) -> (${NAME}): (.*)$`, "s");
const MESSAGE = new RegExp(`^(${NAME}): (.*)$`, "s");
const NAME_ONLY = new RegExp(`^${NAME}$`);

/**
 * Reads a line received from a room back into an event. `** NAME ACTION` is
 * an action; `* …` a notice (also an action from an older server, which sent
 * `* NAME ACTION`: it cannot be told from a notice).
 */
export function parseLine(line: string): ChatEvent {
  if (line.startsWith(ACTION_PREFIX)) {
    const rest = line.slice(ACTION_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space > 0 && NAME_ONLY.test(rest.slice(0, space)))
      return { type: "action", from: rest.slice(0, space), text: rest.slice(space + 1) };
  }
  if (line.startsWith("* ")) return { type: "notice", text: line.slice(2) };
  if (line.startsWith("! ")) return { type: "error", text: line.slice(2) };
  const direct = PRIVATE.exec(line);
  if (direct) return { type: "message", from: direct[1] ?? "", to: direct[2] ?? "", text: direct[3] ?? "" };
  const said = MESSAGE.exec(line);
  if (said) return { type: "message", from: said[1] ?? "", text: said[2] ?? "" };
  return { type: "message", text: line };
}
