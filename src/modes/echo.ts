/**
 * echo (RFC 862): every byte goes straight back to its sender, unchanged and
 * without waiting for a newline; each received line is also printed. A client
 * that does not read its echo is slowed by pausing reads from it (TCP flow
 * control), so the server never holds more than QUEUE_HIGH_WATER bytes plus
 * one read (Bun reads up to 512 KiB at a time) for it. Nothing is lost:
 * reading resumes once it has taken its echo down to QUEUE_LOW_WATER.
 */
import { QUEUE_HIGH_WATER, QUEUE_LOW_WATER } from "../defaults.ts";
import { lineMode, type Printed } from "./line-mode.ts";
import type { Mode, ModeContext } from "./mode.ts";

export function echoMode(context: ModeContext): Mode<Printed> {
  // No --rate-limit: an echo answers bytes as they come, before a line ends, and costs only its sender.
  const ctx = { ...context, rateLimit: undefined };
  return lineMode(ctx, {
    opened(conn) {
      conn.addDrainListener(() => {
        if (conn.queued <= QUEUE_LOW_WATER) conn.resume();
      });
    },
    received(conn, chunk) {
      conn.send(chunk, true);
      if (conn.queued > QUEUE_HIGH_WATER) conn.pause();
    },
  });
}
