/**
 * oneway (RFC 863, discard, plus printing): the server never sends a byte; it
 * prints each complete line as `PEER: TEXT`, and a final unterminated line
 * when the client closes.
 */
import type { Conn } from "../net/conn.ts";
import { type LineInput, printedLines } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";

function lines(conn: Conn): LineInput {
  return conn.state as LineInput;
}

export function onewayMode(ctx: ModeContext): Mode {
  return {
    open(conn) {
      conn.state = printedLines(ctx, conn);
      ctx.emit({ type: "join", name: conn.peer, peer: conn.peer });
    },
    data(conn, chunk) {
      lines(conn).push(chunk);
    },
    end(conn) {
      lines(conn).finish();
      conn.end();
    },
    close(conn) {
      lines(conn).finish();
      ctx.emit({ type: "leave", name: conn.peer, peer: conn.peer, reason: conn.leaveReason ?? "closed" });
    },
    refuse(conn) {
      conn.end();
    },
    expire(conn) {
      conn.end();
    },
    tick() {},
    shutdown() {},
  };
}
