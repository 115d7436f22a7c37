/**
 * oneway (RFC 863, discard, plus printing): the server never sends a byte; it
 * prints each complete line as `PEER: TEXT`, and a final unterminated line
 * when the client closes.
 */
import type { Conn } from "../net/conn.ts";
import { type LineInput, printedLines } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";

interface Printed {
  conn: Conn;
  lines: LineInput;
}

export function onewayMode(ctx: ModeContext): Mode<Printed> {
  return {
    open(conn) {
      ctx.output.event({ type: "join", name: conn.peer, peer: conn.peer });
      return { conn, lines: printedLines(ctx, conn) };
    },
    data({ lines }, chunk) {
      lines.push(chunk);
    },
    end({ conn, lines }) {
      lines.finish();
      conn.end();
    },
    close({ conn, lines }) {
      lines.finish();
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
