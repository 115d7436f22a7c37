/** The interface every server mode implements; the server owns sockets, a mode owns what they mean. */
import type { ChatEvent } from "../events.ts";
import type { Rate } from "../net/bucket.ts";
import type { Conn } from "../net/conn.ts";

export const MODES = ["twoway", "echo", "oneway"] as const;
export type ModeName = (typeof MODES)[number];

/** Prints one connection's received lines, given as raw bytes: `PEER: TEXT`, sanitised as `decodeLine` would. */
export interface LinePrinter {
  /** Prints the line `bytes[start, end)`. */
  line(bytes: Uint8Array, start: number, end: number): void;
  /**
   * Prints the plain lines (printable ASCII, complete, at most `maxLine`
   * bytes) at the start of `bytes[start, end)` at once; returns where it
   * stopped. The rest is framed and printed line by line.
   */
  plainLines(bytes: Uint8Array, start: number, end: number, maxLine: number): number;
}

/** Makes the raw-line printer for one connection, given its peer name; null when its lines go nowhere (they are then not even framed). */
export type LineWriterFactory = (from: string) => LinePrinter | null;

/** Prints bytes that are already whole, safe lines: `bytes[start, end)`, newline included. */
export type RawWriter = (bytes: Uint8Array, start: number, end: number) => void;

/**
 * Where a mode's conversation goes (the server's stdout, `--json`, `--log`):
 * events, and for plain text output two byte paths that print received lines
 * without making an event (or a string) per line.
 */
export interface ModeOutput {
  event(event: ChatEvent): void;
  /**
   * Echo and oneway: when set, each received line goes as raw bytes to the
   * printer made for its connection (which prints it sanitised, as
   * `decodeLine` would) instead of becoming a `message` event.
   */
  lines?: LineWriterFactory;
  /**
   * Twoway: when set, a plain line said in the room is printed from the
   * bytes relayed to the others (`NAME: TEXT` and a newline, already safe)
   * instead of becoming a `message` event.
   */
  relayed?: RawWriter;
  /** Where the events of another room of the server go (see Lobby): labelled with the room. */
  inRoom?(room: string): ModeOutput;
}

export interface ModeContext {
  output: ModeOutput;
  maxLine: number;
  /** Bytes a client may have waiting to be sent to it before it is dropped as too slow. */
  maxQueue: number;
  /** Twoway: the console participant's name and how many lines newcomers get. */
  name: string;
  history: number;
  /** `--rate-limit`: lines a client may send (a room member say, oneway print), kept by flow control; none: no limit. */
  rateLimit?: Rate;
  /** Twoway: `--motd`, lines each newcomer is shown after the greeting; `--open-topic`, members may set the topic. */
  motd?: readonly string[];
  openTopic?: boolean;
}

/**
 * A mode: what the bytes of its connections mean. `open` makes the mode's
 * own state for a connection (`S`, typed: a room's participant, a printer of
 * lines); every later call about that connection is given it back.
 */
export interface Mode<S> {
  /** An accepted connection. */
  open(conn: Conn): S;
  data(state: S, chunk: Uint8Array): void;
  /** The client half-closed (FIN). */
  end(state: S): void;
  /** The connection is gone; its `leaveReason` says why. */
  close(state: S): void;
  /** Why a new connection from `address` (no port; "" for a unix socket) may not stay, by the mode's own rules (a room's bans), or null. */
  refusal?(address: string): string | null;
  /** A connection that may not stay: tell it why (if the mode talks) and close it. */
  refuse(conn: Conn, why: string): void;
  /** The client was silent for the idle timeout. */
  expire(state: S, idleText: string): void;
  /** Called a few times a second, for work driven by time. */
  tick(now: number): void;
  /** The server is stopping: tell everyone. */
  shutdown(): void;
  /** A line typed on the server's console (twoway). */
  say?(line: string): void;
  /** Before the server listens (a room over several servers joins them). */
  start?(): Promise<void>;
  /** After every connection is closed (a room over several servers lets go of them). */
  stopped?(): Promise<void>;
}

/** A mode as the server drives it: by connection, each one's state looked up here. */
export interface BoundMode {
  open(conn: Conn): void;
  data(conn: Conn, chunk: Uint8Array): void;
  end(conn: Conn): void;
  close(conn: Conn): void;
  refusal(address: string): string | null;
  refuse(conn: Conn, why: string): void;
  expire(conn: Conn, idleText: string): void;
  tick(now: number): void;
  shutdown(): void;
  say(line: string): void;
  start(): Promise<void>;
  stopped(): Promise<void>;
}

/** Drives `mode` by connection; a Map lookup per call (no closure is made per read). */
export function bindMode<S>(mode: Mode<S>): BoundMode {
  const states = new Map<Conn, S>();
  return {
    open(conn) {
      states.set(conn, mode.open(conn));
    },
    data(conn, chunk) {
      const state = states.get(conn);
      if (state !== undefined) mode.data(state, chunk);
    },
    end(conn) {
      const state = states.get(conn);
      if (state !== undefined) mode.end(state);
    },
    close(conn) {
      const state = states.get(conn);
      states.delete(conn);
      if (state !== undefined) mode.close(state);
    },
    refusal: (address) => mode.refusal?.(address) ?? null,
    refuse: (conn, why) => mode.refuse(conn, why),
    expire(conn, idleText) {
      const state = states.get(conn);
      if (state !== undefined) mode.expire(state, idleText);
    },
    tick: (now) => mode.tick(now),
    shutdown: () => mode.shutdown(),
    say: (line) => mode.say?.(line),
    start: () => mode.start?.() ?? Promise.resolve(),
    stopped: () => mode.stopped?.() ?? Promise.resolve(),
  };
}
