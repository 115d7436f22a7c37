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
  | { kind: "usage"; text: string }
  | { kind: "unknown"; command: string };

export const USAGE = {
  nick: "/nick NAME",
  me: "/me ACTION",
  msg: "/msg NAME TEXT",
  kick: "/kick NAME",
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
    default:
      return { kind: "unknown", command: `/${match?.[1] ?? ""}` };
  }
}
