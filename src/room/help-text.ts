/**
 * What `/help` answers: every command on one line, with its aliases. The
 * console's list gives its own meaning of `/quit` (it stops the server) and
 * the commands only it has.
 */

/** One command: its synopsis, what it does, and its other names. */
interface Command {
  synopsis: string;
  does: string;
  aliases?: readonly string[];
  /** Not on the console's list (the console's own line replaces it, or it has no meaning there). */
  memberOnly?: boolean;
}

const MEMBER: readonly Command[] = [
  { synopsis: "/nick NAME", does: "change your name (ASCII letters, digits, _ - ., up to 24)", aliases: ["/name"] },
  { synopsis: "/who [PREFIX]", does: "list who is here (whose name starts with PREFIX)", aliases: ["/names"] },
  { synopsis: "/whois NAME", does: "since when NAME is here, idle time, away text" },
  { synopsis: "/me ACTION", does: "say what you do: ** NAME ACTION" },
  { synopsis: "/msg NAME TEXT", does: "private message to NAME only", aliases: ["/tell"] },
  { synopsis: "/join ROOM", does: "move to ROOM (made when first joined; everyone starts in main)" },
  { synopsis: "/rooms", does: "the rooms (in a cluster: the cluster's) and how many are in each" },
  { synopsis: "/away [TEXT]", does: "tell the room you are away (and why)" },
  { synopsis: "/back", does: "tell the room you are back" },
  { synopsis: "/ignore [NAME]", does: "get nothing NAME says or sends you; alone: who you ignore", memberOnly: true },
  { synopsis: "/unignore NAME", does: "get what NAME says again", memberOnly: true },
  { synopsis: "/topic [TEXT]", does: "show the room's topic (or set it, when members may)", memberOnly: true },
  { synopsis: "/quit [TEXT]", does: "leave; the room sees TEXT", aliases: ["/exit"], memberOnly: true },
  { synopsis: "/help", does: "this list", aliases: ["/?"] },
  { synopsis: "//text", does: "send a line that starts with /" },
];

const CONSOLE: readonly Command[] = [
  { synopsis: "/topic [TEXT]", does: "show or set the room's topic (/topic - clears it)" },
  { synopsis: "/quit", does: "stop the server (on the console)", aliases: ["/exit"] },
  { synopsis: "/kick NAME [REASON]", does: "disconnect NAME; the room sees REASON" },
  { synopsis: "/ban NAME|CIDR [DURATION] [REASON]", does: "keep NAME and its address, or a block, out (30m, 7d; default: until /unban)" },
  { synopsis: "/bans", does: "the bans in force" },
  { synopsis: "/unban NAME|CIDR", does: "lift a ban" },
  { synopsis: "/mute NAME", does: "refuse NAME's lines: ! you are muted" },
  { synopsis: "/unmute NAME", does: "take NAME's lines again" },
];

/** The synopsis column: the longest member command and a gap. */
const COLUMN = 17;

function line({ synopsis, does, aliases }: Command): string {
  const also = aliases ? ` (also ${aliases.join(", ")})` : "";
  const pad = synopsis.length < COLUMN ? " ".repeat(COLUMN - synopsis.length) : "  ";
  return `  ${synopsis}${pad}${does}${also}`;
}

/** A member's `/help`; `openTopic`: members may set the topic. */
export function memberHelp(openTopic = false): string[] {
  const topic = openTopic ? { does: "show the room's topic, or set it (/topic - clears it)" } : {};
  return ["commands:", ...MEMBER.map((c) => line(c.synopsis === "/topic [TEXT]" ? { ...c, ...topic } : c))];
}

/** The console's `/help`: the commands it shares with members, then its own. */
export function consoleHelp(): string[] {
  return ["commands:", ...MEMBER.filter((c) => !c.memberOnly).map(line), "console commands:", ...CONSOLE.map(line)];
}

/** The member's lines, and the console's own (for tests that check no action can pass for one). */
export const HELP: readonly string[] = memberHelp();
export const CONSOLE_HELP: readonly string[] = [...consoleHelp(), ...memberHelp(true)].filter((l) => !HELP.includes(l));
