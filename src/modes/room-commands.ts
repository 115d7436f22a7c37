/** What each line typed in a room does: relay it, or run its slash command. */
import type { ErrorCode } from "../events.ts";
import { CONSOLE_HELP, HELP, type Input, parseInput } from "../room/commands.ts";
import { nameProblem } from "../room/names.ts";
import type { Participant, Room } from "./room.ts";

type Handler<K extends Input["kind"]> = (room: Room, p: Participant, input: Extract<Input, { kind: K }>) => void;
type Handlers = { [K in Input["kind"]]: Handler<K> };

const error = (room: Room, p: Participant, text: string, code?: ErrorCode) =>
  room.tell(p, code ? { type: "error", code, text } : { type: "error", text });
const notice = (room: Room, p: Participant, text: string) => room.tell(p, { type: "notice", text });

const handlers: Handlers = {
  say(room, p, { text }) {
    if (text.trim() === "") return;
    room.broadcast({ type: "message", from: p.name, text }, p);
  },
  nick(room, p, { name }) {
    const problem = nameProblem(name);
    const holder = room.find(name);
    if (problem) error(room, p, `invalid name: ${problem}`, "name-invalid");
    else if (holder === p && p.name === name) notice(room, p, `you are already ${name}`);
    else if (holder && holder !== p) error(room, p, `the name ${holder.name} is taken`, "name-taken");
    else {
      const old = p.name;
      room.rename(p, name);
      if (p.announced) room.broadcast({ type: "rename", from: old, to: name });
      else room.tell(p, { type: "rename", from: old, to: name, self: true });
    }
  },
  who(room, p) {
    const names = room.names();
    room.tell(p, { type: "notice", kind: "who", members: names, text: `${names.length} here: ${names.join(", ")}` });
  },
  me(room, p, { text }) {
    room.broadcast({ type: "action", from: p.name, text }, p);
  },
  msg(room, p, { to, text }) {
    const target = room.find(to);
    if (!target) error(room, p, `no one called ${to} is here`);
    else if (target === p) error(room, p, "that is you");
    else {
      const event = { type: "message", from: p.name, to: target.name, text } as const;
      room.tell(target, event);
      room.tell(p, event);
    }
  },
  help(room, p) {
    for (const line of p.conn ? HELP : [...HELP, ...CONSOLE_HELP]) notice(room, p, line);
  },
  quit(room, p) {
    if (!p.conn) {
      room.stop();
      return;
    }
    room.tell(p, { type: "notice", kind: "bye", text: "bye" });
    p.conn.leaveReason = "quit";
    p.conn.end();
  },
  kick(room, p, { name }) {
    const target = room.find(name);
    if (p.conn) error(room, p, "/kick is for the server console");
    else if (!target?.conn) error(room, p, `no one called ${name} is here`);
    else {
      error(room, target, "you were kicked", "kicked");
      target.conn.leaveReason = "kicked";
      target.conn.end();
    }
  },
  events(room, p, { format, after }) {
    room.events(p, format, after);
  },
  usage(room, p, { text }) {
    error(room, p, `usage: ${text}`);
  },
  unknown(room, p, { command }) {
    error(room, p, `unknown command ${command} (try /help)`, "unknown-command");
  },
};

export function handleInput(room: Room, p: Participant, text: string): void {
  const input = parseInput(text);
  // Setting up (a name, the events' format) is not saying anything: the join waits for the name.
  if (input.kind !== "nick" && input.kind !== "events") room.announce(p);
  (handlers[input.kind] as Handler<typeof input.kind>)(room, p, input);
  if (input.kind === "nick") room.announce(p);
}
