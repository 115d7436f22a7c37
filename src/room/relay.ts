/**
 * A member's bytes on their way into the room: framed into lines (LineInput);
 * a plain line (said text, nothing to decode) goes to the hub as bytes, many
 * at once when the server prints bytes too; anything else (a command, a line
 * to sanitise) is decoded and handed to the commands. Each line takes its
 * token (rate.ts); over a limit the member's lines wait.
 */
import { LineInput } from "../modes/input.ts";
import type { Rate } from "../net/bucket.ts";
import { decodeLine, isPlain } from "../text/sanitize.ts";
import type { Hub } from "./hub.ts";
import type { Member } from "./members.ts";
import { MemberRate } from "./rate.ts";

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
  /** The room is congested (or `m` waits for something): stop handing its lines over (see RoomFlow). */
  held: (m: Member) => boolean;
  /** A line that is not plain saying: a command, or text to decode. */
  text: (m: Member, text: string) => void;
  /** `m` said something: it is announced first if it was not yet. */
  announce: (m: Member) => void;
  /** The line was longer than --max-line and was cut. */
  cut: (m: Member) => void;
  /** A line said by a muted member: refused. */
  muted: (m: Member) => void;
  /** `--rate-limit`: lines a member may say (commands have their own limit: rate.ts). */
  rateLimit?: Rate;
  /** Lines a limit held back were handed over: send what they said. */
  released: () => void;
}

/** The input of member `m`: each line it sends, to the hub or to the commands. */
export function relayInput(m: Member, hub: Hub, options: RelayOptions): LineInput {
  // The room holds lines back while it is congested; then RoomFlow releases them, not the rate.
  const held = () => options.held(m);
  const release = () => {
    if (held()) return;
    input.release();
    options.released();
  };
  const rate = m.conn ? new MemberRate(m.conn, options.rateLimit, release, m.buckets ?? undefined) : null;
  m.buckets = rate?.buckets ?? null;
  const line = (bytes: Uint8Array, start: number, end: number, cut: boolean) => {
    m.spokeAt = Date.now();
    if (cut) options.cut(m);
    if (!plainSaying(bytes, start, end)) {
      const text = decodeLine(bytes.subarray(start, end));
      rate?.typed(text);
      options.text(m, text);
      return;
    }
    rate?.said();
    options.announce(m);
    if (m.muted) options.muted(m);
    else hub.sayPlain(m, bytes, start, end);
  };
  // A newcomer's first line goes one at a time: it announces the newcomer first. A muted member's, to be refused.
  const lines = (bytes: Uint8Array, start: number, end: number) => {
    if (!m.announced || m.muted) return start;
    m.spokeAt = Date.now();
    return hub.sayPlainLines(m, bytes, start, end);
  };
  const bulk = options.bulk ? (rate?.limitBulk(lines) ?? lines) : undefined;
  const input = new LineInput(options.maxLine, line, rate ? () => held() || rate.out : held, bulk);
  return input;
}
