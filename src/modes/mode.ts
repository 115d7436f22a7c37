/** The interface every server mode implements; the server owns sockets, a mode owns what they mean. */
import type { ChatEvent } from "../events.ts";
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

/** Makes the raw-line printer for one connection, given its peer name. */
export type LineWriterFactory = (from: string) => LinePrinter;

/** Prints bytes that are already whole, safe lines: `bytes[start, end)`, newline included. */
export type RawWriter = (bytes: Uint8Array, start: number, end: number) => void;

export interface ModeContext {
  /** Conversation output: the server's stdout, `--json`, `--log`. */
  emit: (event: ChatEvent) => void;
  /**
   * Echo and oneway: when set, each received line goes as raw bytes to the
   * writer made for its connection (which prints it sanitised, as
   * `decodeLine` would) instead of becoming a `message` event.
   */
  lineWriter?: LineWriterFactory;
  /**
   * Twoway: when set, a plain line said in the room is printed from the
   * bytes relayed to the others (`NAME: TEXT` and a newline, already safe)
   * instead of becoming a `message` event.
   */
  relayWriter?: RawWriter;
  maxLine: number;
  /** Bytes a client may have waiting to be sent to it before it is dropped as too slow. */
  maxQueue: number;
  /** Twoway: the console participant's name and how many lines newcomers get. */
  name: string;
  history: number;
}

export interface Mode {
  /** An accepted connection. */
  open(conn: Conn): void;
  data(conn: Conn, chunk: Uint8Array): void;
  /** The client half-closed (FIN). */
  end(conn: Conn): void;
  /** The connection is gone; `conn.leaveReason` says why. */
  close(conn: Conn): void;
  /** A connection that may not stay: tell it why (if the mode talks) and close it. */
  refuse(conn: Conn, why: string): void;
  /** The client was silent for the idle timeout. */
  expire(conn: Conn, idleText: string): void;
  /** Called a few times a second, for work driven by time. */
  tick(now: number): void;
  /** The server is stopping: tell everyone. */
  shutdown(): void;
  /** A line typed on the server's console (twoway). */
  say?(line: string): void;
}
