/**
 * What echo and oneway share: a join and a leave per client, each line it
 * sends printed, a close when it half-closes, is refused or goes idle. A
 * mode adds what it does with a connection and with the bytes it receives.
 */
import type { Conn } from "../net/conn.ts";
import { type LineInput, printedLines } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";

export interface LineModeHooks {
  /** An accepted connection, before anything is read from it. */
  opened?(conn: Conn): void;
  /** A chunk received, before its lines are printed. */
  received?(conn: Conn, chunk: Uint8Array): void;
}

export interface Printed {
  conn: Conn;
  /** Null when the lines go nowhere (see printedLines). */
  lines: LineInput | null;
}

export function lineMode(ctx: ModeContext, hooks: LineModeHooks = {}): Mode<Printed> {
  return {
    open(conn) {
      hooks.opened?.(conn);
      ctx.output.event({ type: "join", name: conn.peer, peer: conn.peer });
      return { conn, lines: printedLines(ctx, conn) };
    },
    data({ conn, lines }, chunk) {
      hooks.received?.(conn, chunk);
      lines?.push(chunk);
    },
    end({ conn, lines }) {
      lines?.finish();
      conn.end();
    },
    close({ conn, lines }) {
      lines?.finish();
      ctx.output.event({ type: "leave", name: conn.peer, peer: conn.peer, reason: conn.leaveReason ?? "closed" });
    },
    refuse(conn) {
      conn.end();
    },
    expire({ conn }) {
      conn.end();
    },
    tick() {},
    shutdown() {},
  };
}
