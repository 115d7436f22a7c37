/**
 * A member's bytes on their way into the room: framed into lines (LineInput);
 * a plain line (said text, nothing to decode) goes to the hub as bytes, many
 * at once when the server prints bytes too; anything else (a command, a line
 * to sanitise) is decoded and handed to the commands.
 */
import { LineInput } from "../modes/input.ts";
import { decodeLine, isPlain } from "../text/sanitize.ts";
import type { Hub } from "./hub.ts";
import type { Member } from "./members.ts";

const SLASH = 0x2f;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * A line to relay as it is, with no decoding: all plain (see isPlain), not a
 * command, not blank. Most chat is; the rest takes the text path.
 */
export function plainSaying(bytes: Uint8Array, start: number, end: number): boolean {
  if (start === end || bytes[start] === SLASH || !isPlain(bytes, start, end)) return false;
  for (let i = start; i < end; i++) if (bytes[i] !== SPACE && bytes[i] !== TAB) return true;
  return false;
}

export interface RelayOptions {
  maxLine: number;
  /** Plain lines may go many at a time (the server prints relayed bytes; events are made per line). */
  bulk: boolean;
  /** The room is congested: stop handing lines over (see RoomFlow). */
  held: () => boolean;
  /** A line that is not plain saying: a command, or text to decode. */
  text: (m: Member, text: string) => void;
  /** `m` said something: it is announced first if it was not yet. */
  announce: (m: Member) => void;
  /** The line was longer than --max-line and was cut. */
  cut: (m: Member) => void;
}

/** The input of member `m`: each line it sends, to the hub or to the commands. */
export function relayInput(m: Member, hub: Hub, options: RelayOptions): LineInput {
  const line = (bytes: Uint8Array, start: number, end: number, cut: boolean) => {
    if (cut) options.cut(m);
    if (!plainSaying(bytes, start, end)) {
      options.text(m, decodeLine(bytes.subarray(start, end)));
      return;
    }
    options.announce(m);
    hub.sayPlain(m, bytes, start, end);
  };
  // A newcomer's first line goes one at a time: it announces the newcomer first.
  const lines = (bytes: Uint8Array, start: number, end: number) => (m.announced ? hub.sayPlainLines(m, bytes, start, end) : start);
  return new LineInput(options.maxLine, line, options.held, options.bulk ? lines : undefined);
}
