/**
 * What happens in a conversation, as structured events, and their two
 * renderings: the plain line a participant sees (the wire format of a room)
 * and the JSON object of `--json`. The client parses room lines back into
 * events with `parseLine`.
 */
export type LeaveReason = "quit" | "closed" | "too slow" | "timed out" | "kicked" | "error" | "shutdown" | "lost";

/** Notices a client acts on (see docs/events.md); the rest have no kind. */
export type NoticeKind = "welcome" | "who" | "bye" | "shutdown" | "crowd";
/** Errors a client acts on (see docs/events.md); the rest have no code. */
export type ErrorCode = "name-taken" | "name-invalid" | "kicked" | "timed-out" | "unknown-command" | "line-cut";

export type ChatEvent =
  | { type: "message"; from?: string; to?: string; text: string }
  | { type: "action"; from: string; text: string }
  | { type: "notice"; text: string; kind?: NoticeKind; members?: string[] }
  | { type: "error"; text: string; code?: ErrorCode }
  /** `node`: the server the member is connected to, in a room over several servers. */
  | { type: "join"; name: string; peer: string; node?: string }
  /** `peer` is known on the member's own server only. */
  | { type: "leave"; name: string; peer?: string; reason: LeaveReason; node?: string }
  /** `self`: told to the renamed member alone, before the room knows it (`you are now NAME`). */
  | { type: "rename"; from: string; to: string; self?: boolean };

function leaveText(name: string, reason: LeaveReason): string {
  switch (reason) {
    case "timed out":
      return `${name} timed out`;
    case "kicked":
      return `${name} was kicked`;
    case "too slow":
      return `${name} left (too slow)`;
    case "error":
      return `${name} left (connection lost)`;
    case "lost":
      return `${name} left (server lost)`;
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
      return `* ${leaveText(event.name, event.reason)}`;
    case "rename":
      return event.self ? `* you are now ${event.to}` : `* ${event.from} is now ${event.to}`;
  }
}

/**
 * The JSON form of `--json`: every object has `ts` and `type`; actions and
 * renames are notices with a `kind` (and the participants named), joins and
 * leaves carry the peer. A room's clients get the shapes of room/wire.ts.
 */
export function eventJson(event: ChatEvent, ts: Date): string {
  const stamp = ts.toISOString();
  switch (event.type) {
    case "action":
      return JSON.stringify({ ts: stamp, type: "notice", kind: "action", text: actionText(event.from, event.text), from: event.from });
    case "rename": {
      const { from, to } = event;
      return JSON.stringify({ ts: stamp, type: "notice", kind: "rename", text: eventLine(event).slice(2), from, to });
    }
    default:
      return JSON.stringify({ ts: stamp, ...event });
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
