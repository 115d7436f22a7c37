/**
 * Tab completion in a room: `/commands` at the start of a line, member names
 * anywhere (`al<Tab>` → `alice: ` at the start, `alice ` elsewhere, so
 * `/msg al<Tab>` → `/msg alice `). Repeated Tabs go through the matches.
 */
import type { RoomLink } from "../room-link.ts";
import type { Completion } from "./editor.ts";

/** A member's commands (the console's own are not a client's to complete). */
export const COMMANDS = [
  "/away",
  "/back",
  "/help",
  "/ignore",
  "/join",
  "/me",
  "/msg",
  "/nick",
  "/quit",
  "/rooms",
  "/topic",
  "/unignore",
  "/who",
  "/whois",
] as const;

interface Cycle {
  start: number;
  end: number;
  options: string[];
  index: number;
}

/** The candidates for `word`, which starts at `start` in the draft. */
export function candidates(word: string, start: number, names: Iterable<string>, me: string): string[] {
  if (word === "") return [];
  const lower = word.toLowerCase();
  if (start === 0 && word.startsWith("/")) return COMMANDS.filter((c) => c.startsWith(lower)).map((c) => `${c} `);
  const suffix = start === 0 ? ": " : " ";
  return [...names]
    .filter((n) => n !== me && n.toLowerCase().startsWith(lower))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
    .map((n) => n + suffix);
}

export function completer(link: () => RoomLink | null): (draft: string, cursor: number, cycle: number) => Completion | null {
  let last: Cycle | null = null;
  return (draft, cursor, cycle) => {
    if (cycle > 0 && last) {
      const state = last;
      state.index = (state.index + 1) % state.options.length;
      const option = state.options[state.index] ?? "";
      const next = draft.slice(0, state.start) + option + draft.slice(state.end);
      state.end = state.start + option.length;
      return { draft: next, cursor: state.end };
    }
    last = null;
    const room = link();
    if (!room) return null;
    const start = draft.slice(0, cursor).search(/\S*$/);
    const options = candidates(draft.slice(start, cursor), start, room.members, room.me);
    const first = options[0];
    if (first === undefined) return null;
    last = { start, end: start + first.length, options, index: 0 };
    return { draft: draft.slice(0, start) + first + draft.slice(cursor), cursor: start + first.length };
  };
}
