/**
 * Reads what a participant typed: a chat line, or a slash command. `//text`
 * sends the literal line `/text`.
 */
export type Input =
  | { kind: "say"; text: string }
  | { kind: "nick"; name: string }
  | { kind: "who" }
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
  me: "/me ACTION",
  msg: "/msg NAME TEXT",
  kick: "/kick NAME",
  events: "/events json [after=ID] | text",
} as const;

export const HELP: readonly string[] = [
  "commands:",
  "  /nick NAME       change your name (letters, digits, _ - ., up to 24)",
  "  /who             list who is here",
  "  /me ACTION       say what you do: * NAME ACTION",
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
      return { kind: "who" };
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
