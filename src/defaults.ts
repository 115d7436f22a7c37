/**
 * Defaults and the tuned numbers more than one module relies on, in one
 * place. Numbers a single module tunes for itself stay named there.
 */

/** The port a server listens on and a client connects to when none is given. */
export const DEFAULT_PORT = 5000;
/** The host a client connects to when none is given. */
export const DEFAULT_HOST = "localhost";

/** What `serve()` (and `chat serve`'s flags) use for an option not given. */
export const SERVE_DEFAULTS = {
  mode: "twoway",
  port: DEFAULT_PORT,
  maxClients: 10_000,
  maxLine: 4096,
  /** Bytes a client may have waiting before it is dropped as too slow. */
  maxQueue: 1024 * 1024,
  /** 0 = never time out. */
  idleTimeoutMs: 0,
  history: 20,
  name: "server",
  /** Bytes --log grows to before it is rotated to FILE.1; 0 = no limit. */
  logMax: 100 * 1024 * 1024,
  /** Connections one address may hold at once; 0 = no limit. */
  maxPerAddress: 0,
} as const;

/** Floors of --max-line and --max-queue: less is surely a slip (`4` for `4k`) that would cut every line or drop every client. */
export const MIN_MAX_LINE = 16;
export const MIN_MAX_QUEUE = 64 * 1024;

/**
 * Water marks of a connection's outgoing queue. Above the high one the
 * server stops reading whoever makes the queue grow (echo: the client
 * itself; a room: every sender); it reads again once the queue is down to
 * the low one; the gap keeps it from switching on every write.
 */
export const QUEUE_HIGH_WATER = 256 * 1024;
export const QUEUE_LOW_WATER = 64 * 1024;

/** How long a graceful close waits while the peer takes nothing before terminating. */
export const CLOSE_GRACE_MS = 3000;
/** How long server shutdown waits in all for queues to flush and clients to close. */
export const SHUTDOWN_GRACE_MS = 3000;
/**
 * During shutdown, a client that has taken nothing for this long (counted from the shutdown at
 * the earliest) is cut: waiting for it cannot finish, and cutting thousands of them at once at
 * the end of SHUTDOWN_GRACE_MS (the kernel discarding each one's unsent bytes) would take
 * longer than the grace itself.
 */
export const SHUTDOWN_STALL_MS = 500;
/** How often time-driven server work runs: idle time-outs, and a room noticing a stalled reader. */
export const TICK_MS = 100;
/**
 * A TLS client has this long from connecting to finishing its handshake: a
 * handshake takes a few round trips, and a socket that never sends one would
 * otherwise hold its descriptor and its place among --max-clients for ever.
 */
export const TLS_HANDSHAKE_MS = 10_000;

/** How long `connect()` may take, TLS handshake included, when no timeout is given. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The client: long enough for any line a chat server sends; longer ones are cut for display. */
export const DISPLAY_MAX_LINE = 1024 * 1024;
