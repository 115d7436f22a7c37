/**
 * What each line typed in a room does: a chat line is said, a slash command
 * runs (`//text` says the literal line `/text`). Parsing is pure; the
 * handlers act through RoomActions and the hub, so this file knows nothing
 * of the room's insides.
 */
import type { ChatEvent, ErrorCode } from "../events.ts";
import type { Hub } from "./hub.ts";
import { type Member, takeRename } from "./members.ts";
import { nameKey, nameProblem } from "./names.ts";

/** `/who` lists at most this many names: in a big room a reply the size of the room costs everyone (and says little). */
export const WHO_MOST = 100;
export type Input =
  | { kind: "say"; text: string }
  | { kind: "nick"; name: string }
  | { kind: "who"; prefix: string }
  | { kind: "me"; text: string }
  | { kind: "msg"; to: string; text: string }
  | { kind: "help" }
  | { kind: "quit" }
  | { kind: "kick"; name: string }
  | { kind: "events"; format: "json" | "text"; after?: string }
  | { kind: "usage"; text: string }
  | { kind: "unknown"; command: string };

export const USAGE = {
  nick: "/nick NAME",
  who: "/who [PREFIX]",
  me: "/me ACTION",
  msg: "/msg NAME TEXT",
  kick: "/kick NAME",
  events: "/events json [after=ID] | text",
} as const;

export const HELP: readonly string[] = [
  "commands:",
  "  /nick NAME       change your name (letters, digits, _ - ., up to 24)",
  "  /who [PREFIX]    list who is here (whose name starts with PREFIX)",
  "  /me ACTION       say what you do: ** NAME ACTION",
  "  /msg NAME TEXT   private message to NAME only",
  "  /quit            leave",
  "  /help            this list",
  "  //text           send a line that starts with /",
];

export const CONSOLE_HELP: readonly string[] = ["  /kick NAME       disconnect NAME (console only)"];

export function parseInput(line: string): Input {
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line);
  const command = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  switch (command) {
    case "nick":
    case "name":
      return rest && !/\s/.test(rest) ? { kind: "nick", name: rest } : { kind: "usage", text: USAGE.nick };
    case "who":
    case "names":
      return /\s/.test(rest) ? { kind: "usage", text: USAGE.who } : { kind: "who", prefix: rest };
    case "me":
      return rest ? { kind: "me", text: rest } : { kind: "usage", text: USAGE.me };
    case "msg":
    case "tell": {
      const [to = "", ...words] = rest.split(/\s+/);
      const text = rest.slice(to.length).trim();
      return to && words.length > 0 && text ? { kind: "msg", to, text } : { kind: "usage", text: USAGE.msg };
    }
    case "help":
    case "?":
      return { kind: "help" };
    case "quit":
    case "exit":
      return { kind: "quit" };
    case "kick":
      return rest && !/\s/.test(rest) ? { kind: "kick", name: rest } : { kind: "usage", text: USAGE.kick };
    case "events":
      return parseEvents(rest);
    default:
      return { kind: "unknown", command: `/${match?.[1] ?? ""}` };
  }
}

/** `/events json [after=ID]` or `/events text`: how a program asks for JSON events (docs/events.md). */
function parseEvents(rest: string): Input {
  const [format, option, ...more] = rest.split(/\s+/);
  const after = option === undefined ? undefined : /^after=(\S+)$/.exec(option)?.[1];
  if (format === "text" && option === undefined) return { kind: "events", format };
  if (format === "json" && more.length === 0 && (option === undefined || after !== undefined)) return { kind: "events", format, after };
  return { kind: "usage", text: USAGE.events };
}

/** What the commands may do to the room. */
export interface RoomActions {
  readonly hub: Hub;
  names(): readonly string[];
  /** An event for `m` alone: a reply, an error. */
  tell(m: Member, event: ChatEvent): void;
  /** `m` is called `name` from now on (it is free). */
  rename(m: Member, name: string): void;
  /** Announces `m` if it was not yet (its join waits for its name). */
  announce(m: Member): void;
  events(m: Member, format: "json" | "text", after?: string): void;
  /** `m` leaves (`/quit`); the console's `/quit` stops the server. */
  quit(m: Member): void;
}

type Handler<K extends Input["kind"]> = (room: RoomActions, m: Member, input: Extract<Input, { kind: K }>) => void;
type Handlers = { [K in Input["kind"]]: Handler<K> };

const error = (room: RoomActions, m: Member, text: string, code?: ErrorCode) =>
  room.tell(m, code ? { type: "error", code, text } : { type: "error", text });
const notice = (room: RoomActions, m: Member, text: string) => room.tell(m, { type: "notice", text });

const handlers: Handlers = {
  say(room, m, { text }) {
    if (text.trim() !== "") room.hub.say(m, text);
  },
  nick(room, m, { name }) {
    const problem = nameProblem(name);
    const mine = nameKey(name) === nameKey(m.name);
    const holder = mine ? undefined : room.hub.holder(name);
    if (problem) error(room, m, `invalid name: ${problem}`, "name-invalid");
    else if (mine && m.name === name) notice(room, m, `you are already ${name}`);
    else if (holder) error(room, m, `the name ${holder} is taken`, "name-taken");
    // A connection may rename a few times at once, then once a second (the console as it likes).
    else if (m.conn && !takeRename(m)) error(room, m, "too many renames: wait a second");
    else room.rename(m, name);
  },
  who(room, m, { prefix }) {
    const all = room.names();
    const key = nameKey(prefix);
    const matching = prefix ? all.filter((name) => nameKey(name).startsWith(key)) : all;
    const shown = matching.slice(0, WHO_MOST);
    const what = prefix ? `${matching.length} of ${all.length} here start with ${prefix}` : `${all.length} here`;
    const more = matching.length > shown.length ? `; the first ${shown.length} (/who PREFIX to find someone): ` : ": ";
    // In a room over several servers, each name says where it is connected.
    const where = (name: string) => {
      const node = room.hub.nodeOf(name);
      return node === undefined ? name : `${name} (${node})`;
    };
    const list = shown.length > 0 ? `${more}${shown.map(where).join(", ")}` : "";
    room.tell(m, { type: "notice", kind: "who", members: shown, text: `${what}${list}` });
  },
  me(room, m, { text }) {
    room.hub.act(m, text);
  },
  msg(room, m, { to, text }) {
    const target = nameKey(to) === nameKey(m.name) ? m.name : room.hub.holder(to);
    if (!target) error(room, m, `no one called ${to} is here`);
    else if (target === m.name) error(room, m, "that is you");
    else room.hub.whisper(m, target, text);
  },
  help(room, m) {
    for (const line of m.conn ? HELP : [...HELP, ...CONSOLE_HELP]) notice(room, m, line);
  },
  quit(room, m) {
    room.quit(m);
  },
  kick(room, m, { name }) {
    const target = nameKey(name) === nameKey(m.name) ? undefined : room.hub.holder(name);
    if (m.conn) error(room, m, "/kick is for the server console");
    else if (!target) error(room, m, `no one called ${name} is here`);
    else room.hub.kick(target);
  },
  events(room, m, { format, after }) {
    room.events(m, format, after);
  },
  usage(room, m, { text }) {
    error(room, m, `usage: ${text}`);
  },
  unknown(room, m, { command }) {
    error(room, m, `unknown command ${command} (try /help)`, "unknown-command");
  },
};

/** Runs one line `m` typed (decoded and sanitised). */
export function runLine(room: RoomActions, m: Member, text: string): void {
  const input = parseInput(text);
  // Setting up (a name, the events' format) is not saying anything: the join waits for the name.
  if (input.kind !== "nick" && input.kind !== "events") room.announce(m);
  (handlers[input.kind] as Handler<typeof input.kind>)(room, m, input);
  if (input.kind === "nick") room.announce(m);
}
