/**
 * A room's events as JSON, for the clients that ask (`/events json`, see
 * docs/events.md): the `--json` shapes with a `text` on every object, an `id`
 * on room lines, `history` on replayed ones, and no peer addresses.
 *
 * Plain lines relayed many at a time are written as JSON straight from their
 * bytes (`writePlainLinesJson`): the same bytes as `wireJson` of each line,
 * without a string per line.
 */
import { ACTION_PREFIX, actionText, type ChatEvent, eventLine, stateFields } from "../events.ts";
import { copyBytes } from "../text/bytes.ts";
import type { Replay } from "./recent.ts";

const encoder = new TextEncoder();

let isoMs = Number.NaN;
let isoText = "";

/** ISO-8601 of a time in ms; lines relayed together share one. */
export function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** The JSON object (no newline) a client that asked for JSON gets for `event`; `id` and `history` for room lines. */
export function wireJson(event: ChatEvent, ts: number, id?: string, history?: true): string {
  const at = isoTime(ts);
  switch (event.type) {
    case "message": {
      const { from, to, text } = event;
      return JSON.stringify({ id, ts: at, type: "message", from, to, text, history });
    }
    case "action":
      return JSON.stringify({
        id,
        ts: at,
        type: "notice",
        kind: "action",
        from: event.from,
        text: actionText(event.from, event.text),
        history,
      });
    case "notice":
      return JSON.stringify({
        ts: at,
        type: "notice",
        kind: event.kind,
        members: event.members,
        away: event.away,
        whois: event.whois,
        room: event.room,
        rooms: event.rooms,
        text: event.text,
      });
    case "error":
      return JSON.stringify({ ts: at, type: "error", code: event.code, text: event.text });
    case "join":
      return JSON.stringify({ ts: at, type: "join", name: event.name, text: eventLine(event).slice(2) });
    case "leave": {
      const { name, reason, message } = event;
      return JSON.stringify({ ts: at, type: "leave", name, reason, message: message || undefined, text: eventLine(event).slice(2) });
    }
    case "rename":
      return JSON.stringify({ ts: at, type: "notice", kind: "rename", from: event.from, to: event.to, text: eventLine(event).slice(2) });
    default:
      return JSON.stringify({ ts: at, ...stateFields(event) });
  }
}

/** The first object after `/events json`. */
export function readyJson(ts: number, name: string, members: readonly string[], replay: number, complete: boolean): string {
  return JSON.stringify({ ts: isoTime(ts), type: "ready", name, members, replay, complete });
}

const decoder = new TextDecoder();

/**
 * What `/events json` answers (one string, newlines included): the `ready`
 * object, then the lines replayed, the newest that fit in `maxBytes` (a
 * connection sent more at once than its queue may hold would be dropped as
 * too slow), but those said by a name `hidden` says the connection ignores.
 * Fewer than asked for (ignored ones aside) is not complete.
 */
export function eventsReply(
  ts: number,
  name: string,
  members: readonly string[],
  replay: Replay,
  id: (seq: number) => string,
  maxBytes: number,
  hidden?: (from: string) => boolean,
): string {
  const out: string[] = [];
  let bytes = 0;
  let skipped = 0;
  for (let i = replay.lines.length - 1; i >= 0; i--) {
    const line = replay.lines[i];
    if (!line) continue;
    const event = keptEvent(decoder.decode(line.bytes.subarray(line.start, line.end)));
    if (hidden?.(event.from)) {
      skipped++;
      continue;
    }
    const json = wireJson(event, line.ts, id(line.seq), true);
    bytes += Buffer.byteLength(json) + 1;
    if (bytes > maxBytes) break;
    out.push(json);
  }
  out.push(readyJson(ts, name, members, out.length, replay.complete && out.length + skipped === replay.lines.length));
  return `${out.reverse().join("\n")}\n`;
}

/** A kept room line (`NAME: TEXT` or `** NAME ACTION`, as relayed) as the event it was. */
function keptEvent(line: string): Extract<ChatEvent, { type: "message" | "action" }> & { from: string } {
  if (line.startsWith(ACTION_PREFIX)) {
    const at = ACTION_PREFIX.length;
    const space = line.indexOf(" ", at);
    const from = space < 0 ? line.slice(at) : line.slice(at, space);
    return { type: "action", from, text: space < 0 ? "" : line.slice(space + 1) };
  }
  const colon = line.indexOf(": ");
  return { type: "message", from: line.slice(0, colon), text: line.slice(colon + 2) };
}

/** A kept room line replayed as JSON. */
export function replayedJson(line: string, ts: number, id: string): string {
  return wireJson(keptEvent(line), ts, id, true);
}

const LF = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
/** What follows a backslash for the bytes a plain line may hold that JSON escapes (0: none). */
const ESCAPED = new Uint8Array(256);
ESCAPED[QUOTE] = QUOTE;
ESCAPED[BACKSLASH] = BACKSLASH;
ESCAPED[0x09] = 0x74; // \t
const TAIL = encoder.encode('"}\n');
/** Digits of a line's number at most (2^53). */
const SEQ_DIGITS = 16;
const NAME_MAX = 24;
const FIELDS = '{"id":"-","ts":"","type":"message","from":"","text":"'.length + TAIL.length;
/** ISO-8601 in ms, and the room's START (a time in ms) in 13 digits until the year 2286. */
const TIME_DIGITS = 24 + 13;

/** The most bytes the JSON of a relayed plain line takes beyond twice its text (each text byte takes at most 2). */
export const PLAIN_LINE_JSON_EXTRA = FIELDS + TIME_DIGITS + SEQ_DIGITS + NAME_MAX;

/** Where `writePlainLinesJson` writes: it asks for room first, then writes to `buffer` (which that may replace). */
export interface JsonSink {
  reserve(most: number): number;
  readonly buffer: Uint8Array;
}

/**
 * Writes the JSON of `count` relayed plain lines, `bytes[start, end)` (each
 * `NAME: TEXT` and a newline, `prefixLength` the length of `NAME: `; only tab
 * and printable ASCII), numbered from `seq`, said by `from` at `ts`, to
 * `sink`; returns the end of what it wrote. `head` is `{"id":"START-`.
 */
export function writePlainLinesJson(
  sink: JsonSink,
  head: Uint8Array,
  bytes: Uint8Array,
  start: number,
  end: number,
  count: number,
  prefixLength: number,
  seq: number,
  ts: number,
  from: string,
): number {
  const middle = encoder.encode(`","ts":"${isoTime(ts)}","type":"message","from":${JSON.stringify(from)},"text":"`);
  const perLine = head.length + SEQ_DIGITS + middle.length + TAIL.length;
  let n = sink.reserve(2 * (end - start) + perLine * count);
  const dst = sink.buffer;
  let number = seq;
  for (let i = start; i < end; ) {
    const lf = bytes.indexOf(LF, i);
    const stop = lf < 0 || lf > end ? end : lf;
    n = copyBytes(head, 0, head.length, dst, n);
    n = writeNumber(dst, n, number++);
    n = copyBytes(middle, 0, middle.length, dst, n);
    n = escapeInto(bytes, i + prefixLength, stop, dst, n);
    n = copyBytes(TAIL, 0, TAIL.length, dst, n);
    i = stop + 1;
  }
  return n;
}

/** Copies `src[start, end)` into a JSON string's body: `"`, `\` and tab escaped. */
function escapeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  let n = at;
  let run = start;
  for (let i = start; i < end; i++) {
    const escaped = ESCAPED[src[i] ?? 0] ?? 0;
    if (escaped === 0) continue;
    n = copyBytes(src, run, i, dst, n);
    dst[n++] = BACKSLASH;
    dst[n++] = escaped;
    run = i + 1;
  }
  return copyBytes(src, run, end, dst, n);
}

function writeNumber(dst: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    dst[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}
