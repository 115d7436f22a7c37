/**
 * A graceful stop: no one new, the mode tells everyone, every queue is
 * flushed and every connection closed, within SHUTDOWN_GRACE_MS in all.
 */
import { SHUTDOWN_GRACE_MS, SHUTDOWN_STALL_MS } from "../defaults.ts";
import type { BoundMode } from "../modes/mode.ts";
import type { Conn } from "../net/conn.ts";
import type { Connections } from "./connections.ts";
import type { Listening } from "./listen.ts";

export interface Running {
  listening: Listening;
  mode: BoundMode;
  connections: Connections;
  ticker: Timer;
}

export async function shutdown({ listening, mode, connections, ticker }: Running): Promise<void> {
  listening.stopAccepting();
  connections.refuseAll();
  mode.shutdown();
  await closeAll(connections.all());
  clearInterval(ticker);
  listening.close();
  await mode.stopped();
}

async function closeAll(conns: readonly Conn[]): Promise<void> {
  // A reason given before (kicked, timed out) stays. One that takes nothing is cut, not waited for.
  for (const conn of conns) conn.end(conn.leaveReason ?? "shutdown", SHUTDOWN_STALL_MS);
  // Conn.end's deadline is reset by progress; the whole shutdown has a hard bound.
  const deadline = setTimeout(() => {
    for (const conn of conns) conn.destroy();
  }, SHUTDOWN_GRACE_MS);
  await Promise.all(conns.map((conn) => conn.closed));
  clearTimeout(deadline);
}
