/**
 * oneway (RFC 863, discard, plus printing): the server never sends a byte; it
 * prints each complete line as `PEER: TEXT`, and a final unterminated line
 * when the client closes.
 */
import { lineMode, type Printed } from "./line-mode.ts";
import type { Mode, ModeContext } from "./mode.ts";

export function onewayMode(ctx: ModeContext): Mode<Printed> {
  return lineMode(ctx);
}
