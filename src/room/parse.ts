/**
 * What a line typed in a room asks for: a chat line to say, or a slash
 * command with its arguments (`//text` says the literal line `/text`). Pure:
 * no sockets and no room, so that the client (Tab, its own lines) and the
 * rate limits read commands as the room does.
 */
import { parseDuration } from "../text/units.ts";

export type Input =
  | { kind: "say"; text: string }
  | { kind: "nick"; name: string }
  | { kind: "who"; prefix: string }
  | { kind: "whois"; name: string }
  | { kind: "me"; text: string }
  | { kind: "msg"; to: string; text: string }
  /** `text` "" when none was given. */
  | { kind: "away"; text: string }
  | { kind: "back" }
  /** No name: list the names ignored. */
  | { kind: "ignore"; name?: string }
  | { kind: "unignore"; name: string }
  /** No text: show the topic; "" (`/topic -`): clear it. */
  | { kind: "topic"; text?: string }
  | { kind: "help" }
  | { kind: "join"; room: string }
  | { kind: "rooms" }
  | { kind: "quit"; text?: string }
  | { kind: "kick"; name: string; reason?: string }
  | { kind: "ban"; target: string; ms?: number; reason?: string }
  | { kind: "bans" }
  | { kind: "unban"; target: string }
  | { kind: "mute"; name: string; on: boolean }
  | { kind: "events"; format: "json" | "text"; after?: string }
  | { kind: "usage"; text: string }
  | { kind: "unknown"; command: string };

export const USAGE = {
  nick: "/nick NAME",
  who: "/who [PREFIX]",
  whois: "/whois NAME",
  me: "/me ACTION",
  msg: "/msg NAME TEXT",
  ignore: "/ignore [NAME]",
  unignore: "/unignore NAME",
  kick: "/kick NAME [REASON]",
  ban: "/ban NAME|CIDR [DURATION] [REASON]",
  unban: "/unban NAME|CIDR",
  mute: "/mute NAME",
  unmute: "/unmute NAME",
  events: "/events json [after=ID] | text",
  join: "/join ROOM",
} as const;

/**
 * Free text a command carries (an away text, a topic, a reason) is cut to
 * this many characters: it is repeated to everyone, in `/whois` and in the
 * room's state, and a line's worth of it would be noise.
 */
export const NOTE_MOST = 200;

/** A ban's duration: a number and a unit (`90s`, `30m`, `2h`, `7d`); a bare number is seconds. */
const DURATION_WORD = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)?$/i;

export function parseInput(line: string): Input {
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line);
  const command = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  const parse = COMMANDS.get(command);
  return parse ? parse(rest) : { kind: "unknown", command: `/${match?.[1] ?? ""}` };
}

/** One word (a name): the input, or the usage. */
const oneWord = (rest: string, usage: string, make: (word: string) => Input): Input =>
  rest && !/\s/.test(rest) ? make(rest) : { kind: "usage", text: usage };

/** The first word and what follows it (cut to NOTE_MOST). */
function split(rest: string): [string, string] {
  const word = rest.split(/\s+/, 1)[0] ?? "";
  return [word, note(rest.slice(word.length))];
}

/** Free text, trimmed and cut to NOTE_MOST characters (whole code points). */
export function note(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= NOTE_MOST ? trimmed : [...trimmed].slice(0, NOTE_MOST).join("").trimEnd();
}

const nick = (rest: string) => oneWord(rest, USAGE.nick, (name) => ({ kind: "nick", name }));
const who = (rest: string): Input => (/\s/.test(rest) ? { kind: "usage", text: USAGE.who } : { kind: "who", prefix: rest });
const quit = (rest: string): Input => (rest ? { kind: "quit", text: note(rest) } : { kind: "quit" });
const help = (): Input => ({ kind: "help" });

function msg(rest: string): Input {
  const [to = "", ...words] = rest.split(/\s+/);
  const text = rest.slice(to.length).trim();
  return to && words.length > 0 && text ? { kind: "msg", to, text } : { kind: "usage", text: USAGE.msg };
}

function kick(rest: string): Input {
  const [name, reason] = split(rest);
  if (!name) return { kind: "usage", text: USAGE.kick };
  return reason ? { kind: "kick", name, reason } : { kind: "kick", name };
}

/** `/ban TARGET [DURATION] [REASON]`: a second word that reads as a duration is one. */
function ban(rest: string): Input {
  const [target, more] = split(rest);
  if (!target) return { kind: "usage", text: USAGE.ban };
  const [first, after] = split(more);
  const ms = DURATION_WORD.test(first) ? parseDuration(first) : null;
  if (ms === null) return withReason(target, undefined, more);
  return ms > 0 ? withReason(target, ms, after) : { kind: "usage", text: USAGE.ban };
}

function withReason(target: string, ms: number | undefined, reason: string): Input {
  const input: Input = { kind: "ban", target };
  if (ms !== undefined) input.ms = ms;
  if (reason) input.reason = reason;
  return input;
}

const COMMANDS = new Map<string, (rest: string) => Input>(
  Object.entries({
    nick,
    name: nick,
    who,
    names: who,
    whois: (rest) => oneWord(rest, USAGE.whois, (name) => ({ kind: "whois", name })),
    me: (rest) => (rest ? { kind: "me", text: rest } : { kind: "usage", text: USAGE.me }),
    msg,
    tell: msg,
    away: (rest) => ({ kind: "away", text: note(rest) }),
    back: () => ({ kind: "back" }),
    ignore: (rest) => (rest === "" ? { kind: "ignore" } : oneWord(rest, USAGE.ignore, (name) => ({ kind: "ignore", name }))),
    unignore: (rest) => oneWord(rest, USAGE.unignore, (name) => ({ kind: "unignore", name })),
    topic: (rest) => (rest === "" ? { kind: "topic" } : { kind: "topic", text: rest === "-" ? "" : note(rest) }),
    help,
    "?": help,
    join: (rest) => oneWord(rest, USAGE.join, (room) => ({ kind: "join", room })),
    rooms: () => ({ kind: "rooms" }),
    quit,
    exit: quit,
    kick,
    ban,
    bans: () => ({ kind: "bans" }),
    unban: (rest) => oneWord(rest, USAGE.unban, (target) => ({ kind: "unban", target })),
    mute: (rest) => oneWord(rest, USAGE.mute, (name) => ({ kind: "mute", name, on: true })),
    unmute: (rest) => oneWord(rest, USAGE.unmute, (name) => ({ kind: "mute", name, on: false })),
    events: parseEvents,
  }),
);

/** `/events json [after=ID]` or `/events text`: how a program asks for JSON events (docs/events.md). */
function parseEvents(rest: string): Input {
  const [format, option, ...more] = rest.split(/\s+/);
  const after = option === undefined ? undefined : /^after=(\S+)$/.exec(option)?.[1];
  if (format === "text" && option === undefined) return { kind: "events", format };
  if (format === "json" && more.length === 0 && (option === undefined || after !== undefined)) return { kind: "events", format, after };
  return { kind: "usage", text: USAGE.events };
}
