/**
 * echo (RFC 862): every byte goes straight back to its sender, unchanged and
 * without waiting for a newline; each received line is also printed. A client
 * that does not read its echo is slowed by pausing reads from it (TCP flow
 * control), so the server never holds more than HIGH_WATER bytes plus one
 * read (Bun reads up to 512 KiB at a time) for it. Nothing is lost: reading
 * resumes once it has taken its echo down to LOW_WATER.
 */
import type { Conn } from "../net/conn.ts";
import { type LineInput, printedLines } from "./input.ts";
import type { Mode, ModeContext } from "./mode.ts";

export const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

interface Echoed {
  conn: Conn;
  lines: LineInput;
}

export function echoMode(ctx: ModeContext): Mode<Echoed> {
  return {
    open(conn) {
      conn.onDrain = () => {
        if (conn.queued <= LOW_WATER) conn.resume();
      };
      ctx.output.event({ type: "join", name: conn.peer, peer: conn.peer });
      return { conn, lines: printedLines(ctx, conn) };
    },
    data({ conn, lines }, chunk) {
      conn.send(chunk, true);
      if (conn.queued > HIGH_WATER) conn.pause();
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
