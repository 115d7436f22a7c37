/**
 * What happens in a conversation, as structured events, and their two
 * renderings: the plain line a participant sees (the wire format of a room)
 * and the JSON object of `--json`. The client parses room lines back into
 * events with `parseLine`.
 */
export type LeaveReason = "quit" | "closed" | "too slow" | "timed out" | "kicked" | "error" | "shutdown";

/** Notices a client acts on (see docs/events.md); the rest have no kind. */
export type NoticeKind = "welcome" | "who" | "bye" | "shutdown";
/** Errors a client acts on (see docs/events.md); the rest have no code. */
export type ErrorCode = "name-taken" | "name-invalid" | "kicked" | "timed-out" | "unknown-command" | "line-cut";

export type ChatEvent =
  | { type: "message"; from?: string; to?: string; text: string }
  | { type: "action"; from: string; text: string }
  | { type: "notice"; text: string; kind?: NoticeKind; members?: string[] }
  | { type: "error"; text: string; code?: ErrorCode }
  | { type: "join"; name: string; peer: string }
  | { type: "leave"; name: string; peer: string; reason: LeaveReason }
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
    default:
      return `${name} left`;
  }
}

/** The line as a room participant receives it (no newline). */
export function eventLine(event: ChatEvent): string {
  switch (event.type) {
    case "message":
      if (event.from === undefined) return event.text;
      return event.to === undefined ? `${event.from}: ${event.text}` : `${event.from} -> ${event.to}: ${event.text}`;
    case "action":
      return `* ${event.from} ${event.text}`;
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
      return JSON.stringify({ ts: stamp, type: "notice", kind: "action", text: eventLine(event).slice(2), from: event.from });
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

/** Reads a line received from a room back into an event. */
export function parseLine(line: string): ChatEvent {
  if (line.startsWith("* ")) return { type: "notice", text: line.slice(2) };
  if (line.startsWith("! ")) return { type: "error", text: line.slice(2) };
  const direct = PRIVATE.exec(line);
  if (direct) return { type: "message", from: direct[1] ?? "", to: direct[2] ?? "", text: direct[3] ?? "" };
  const said = MESSAGE.exec(line);
  if (said) return { type: "message", from: said[1] ?? "", text: said[2] ?? "" };
  return { type: "message", text: line };
}
