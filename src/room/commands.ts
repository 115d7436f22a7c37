/**
 * What each line typed in a room does: a chat line is said, a slash command
 * runs. Parsing is in parse.ts; the handlers act through RoomActions and the
 * hub, so this file knows nothing of the room's insides. The console's own
 * commands (moderation) are in console-commands.ts.
 */
import { error, type Handler, type Handlers, notice, other, type RoomActions } from "./actions.ts";
import { banTerms } from "./bans.ts";
import { consoleCommands } from "./console-commands.ts";
import { consoleHelp, memberHelp } from "./help-text.ts";
import { topicEvent } from "./hub.ts";
import { type Member, takeChange, takeRename } from "./members.ts";
import { MUTED } from "./moderation.ts";
import { nameKey, nameProblem } from "./names.ts";
import { parseInput } from "./parse.ts";
import { whoisText } from "./whois.ts";

export type { RoomActions } from "./actions.ts";
export { CONSOLE_HELP, HELP } from "./help-text.ts";
export { type Input, parseInput, USAGE } from "./parse.ts";

/** `/who` lists at most this many names: in a big room a reply the size of the room costs everyone (and says little). */
export const WHO_MOST = 100;

/** Muted members may not be heard by the room: false (and told) when `m` is muted. */
function heard(room: RoomActions, m: Member): boolean {
  if (m.muted) error(room, m, MUTED, "muted");
  return !m.muted;
}

/**
 * Changes everyone is told of (away, back, a topic) are limited like renames:
 * three at once, then one a second (the console as it likes). False (and `m`
 * told) when none is left for now.
 */
function told(room: RoomActions, m: Member): boolean {
  if (!m.conn || takeChange(m)) return true;
  error(room, m, "too many changes: wait a second");
  return false;
}

const handlers: Handlers = {
  say(room, m, { text }) {
    if (text.trim() !== "" && heard(room, m)) room.hub.say(m, text);
  },
  nick(room, m, { name }) {
    const problem = nameProblem(name);
    const mine = nameKey(name) === nameKey(m.name);
    const holder = mine ? undefined : room.holder(name);
    const ban = m.conn ? room.hub.bans.name(name) : undefined;
    if (problem) error(room, m, `invalid name: ${problem}`, "name-invalid");
    else if (mine && m.name === name) notice(room, m, `you are already ${name}`);
    else if (holder) error(room, m, `the name ${holder} is taken`, "name-taken");
    else if (ban) error(room, m, `the name ${name} is banned${banTerms(ban)}`, "name-banned");
    else if (!heard(room, m)) return;
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
    const away: string[] = [];
    // In a room over several servers, each name says where it is connected; and who is away.
    const where = (name: string) => {
      const info = room.hub.whois(name);
      const isAway = info !== undefined && info.away !== null;
      if (isAway) away.push(name);
      const marks = [info?.node, isAway ? "away" : undefined].filter((x) => x !== undefined);
      return marks.length === 0 ? name : `${name} (${marks.join(", ")})`;
    };
    const list = shown.length > 0 ? `${more}${shown.map(where).join(", ")}` : "";
    room.tell(m, { type: "notice", kind: "who", members: shown, away: away.length > 0 ? away : undefined, text: `${what}${list}` });
  },
  whois(room, m, { name }) {
    const info = room.hubOf(name)?.whois(name);
    if (!info) error(room, m, `no one called ${name} is here`);
    else room.tell(m, whoisText(info, m.conn === null));
  },
  me(room, m, { text }) {
    if (heard(room, m)) room.hub.act(m, text);
  },
  msg(room, m, { to, text }) {
    const target = other(room, m, to);
    if (!target) return;
    const away = room.hubOf(target)?.whois(target)?.away ?? null;
    if (away !== null) error(room, m, away ? `${target} is away: ${away}` : `${target} is away`);
    room.whisper(m, target, text);
  },
  away(room, m, { text }) {
    if (heard(room, m) && told(room, m)) room.hub.away(m, text);
  },
  back(room, m) {
    if (m.away === null) error(room, m, "you are not away");
    else if (heard(room, m) && told(room, m)) room.hub.away(m, null);
  },
  ignore(room, m, { name }) {
    if (!m.conn) error(room, m, "/ignore is for connections");
    else if (name === undefined) {
      const names = [...(m.ignoring?.values() ?? [])];
      notice(room, m, names.length > 0 ? `you ignore ${names.join(", ")} (/unignore NAME)` : "you ignore no one");
    } else {
      const target = other(room, m, name);
      if (!target) return;
      if (room.ignores.add(m, target)) notice(room, m, `you ignore ${target}: nothing it says or sends reaches you (/unignore ${target})`);
      else error(room, m, "you ignore too many already (/unignore someone)");
    }
  },
  unignore(room, m, { name }) {
    const had = m.ignoring?.get(nameKey(name));
    if (had && room.ignores.remove(m, had)) notice(room, m, `you no longer ignore ${had}`);
    else error(room, m, `you do not ignore ${name}`);
  },
  topic(room, m, { text }) {
    if (text === undefined) room.tell(m, topicEvent(room.hub.topic, true));
    else if (m.conn && !room.openTopic) error(room, m, "only the server's console may set the topic here");
    else if (heard(room, m) && told(room, m)) room.hub.setTopic(m, text);
  },
  help(room, m) {
    for (const line of m.conn ? memberHelp(room.openTopic) : consoleHelp()) notice(room, m, line);
  },
  join(room, m, { room: name }) {
    if (told(room, m)) room.join(m, name);
  },
  rooms(room, m) {
    room.rooms(m);
  },
  quit(room, m, { text }) {
    room.quit(m, text ?? "");
  },
  ...consoleCommands,
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
  // Setting up (a name, the events' format, the room) is not saying anything: the join waits for the name.
  if (input.kind !== "nick" && input.kind !== "events" && input.kind !== "join") room.announce(m);
  (handlers[input.kind] as Handler<typeof input.kind>)(room, m, input);
  if (input.kind === "nick") room.announce(m);
}
