/**
 * `serve(options)`: listens (TCP, TLS or a unix socket), admits or refuses
 * connections, times out idle ones, and shuts down gracefully. What the bytes
 * mean is up to the mode (echo, oneway, twoway).
 */
import type { Socket, SocketHandler, TCPSocketListener, UnixSocketListener } from "bun";
import { ChatError, portInUseHint, reason } from "./errors.ts";
import { echoMode } from "./modes/echo.ts";
import { type BoundMode, bindMode, type ModeContext, type ModeName, type ModeOutput } from "./modes/mode.ts";
import { onewayMode } from "./modes/oneway.ts";
import { formatHostPort, plainAddress, unbracket } from "./net/address.ts";
import { type Cidr, refusal } from "./net/cidr.ts";
import { Conn, type ConnRef } from "./net/conn.ts";
import { PlainPortGuard } from "./net/plain-port.ts";
import { prepareUnixPath, removeUnixPath } from "./net/unix.ts";
import { Room } from "./room/room.ts";
import { formatDuration } from "./text/units.ts";
import { checkTlsPair } from "./tls.ts";

export const DEFAULTS = {
  mode: "twoway" as ModeName,
  port: 5000,
  maxClients: 10_000,
  maxLine: 4096,
  maxQueue: 1024 * 1024,
  history: 20,
  name: "server",
};
/** How long shutdown waits for queues to flush and clients to close. */
export const SHUTDOWN_GRACE_MS = 3000;
/** How often time-driven work runs: idle time-outs, and a room noticing a stalled reader (STALL_MS). */
export const TICK_MS = 100;

export interface ServeOptions {
  mode?: ModeName;
  /** Default: all interfaces, IPv4 and IPv6. */
  host?: string;
  port?: number;
  /** Listen on a unix socket instead of host and port. */
  unix?: string;
  /** PEM certificate and key: serve TLS. */
  tls?: { cert: string; key: string };
  maxClients?: number;
  maxLine?: number;
  maxQueue?: number;
  /** 0 = never. */
  idleTimeoutMs?: number;
  allow?: Cidr[];
  deny?: Cidr[];
  /** The console participant's name (twoway). */
  name?: string;
  history?: number;
  /** The conversation: lines received, room traffic, joins and leaves (see ModeOutput). */
  output?: ModeOutput;
  /** Status: refused connections and the like. */
  onStatus?: (text: string) => void;
  /** Called when the console asks the server to stop (`/quit`). */
  onStopRequest?: () => void;
}

export interface ServerHandle {
  readonly mode: ModeName;
  readonly address: string;
  readonly port: number;
  readonly unix: string | undefined;
  /** `HOST:PORT` or the unix socket path, as shown in `listening on …`. */
  readonly label: string;
  readonly clients: number;
  /** A line from the server's console (twoway; ignored by the other modes). */
  say(line: string): void;
  /**
   * Stops (true) or restarts (false) reading from every client, so that
   * clients are slowed by TCP flow control while the server's own output
   * (stdout) is backed up, instead of the server buffering without bound.
   */
  holdInput(held: boolean): void;
  /** Stops accepting, tells the room, flushes and closes every connection. Idempotent. */
  close(): Promise<void>;
}

type Listener = TCPSocketListener<ConnRef> | UnixSocketListener<ConnRef>;

function createMode(name: ModeName, ctx: ModeContext, stop: () => void): BoundMode {
  if (name === "echo") return bindMode(echoMode(ctx));
  if (name === "oneway") return bindMode(onewayMode(ctx));
  return bindMode(new Room(ctx, stop));
}

let localPeers = 0;

function peerName(socket: Socket<ConnRef>): string {
  const address = socket.remoteAddress;
  if (!address) return `local-${++localPeers}`;
  return formatHostPort(plainAddress(address), socket.remotePort);
}

export async function serve(options: ServeOptions = {}): Promise<ServerHandle> {
  const modeName = options.mode ?? DEFAULTS.mode;
  const maxClients = options.maxClients ?? DEFAULTS.maxClients;
  const idleMs = options.idleTimeoutMs ?? 0;
  const allow = options.allow ?? [];
  const deny = options.deny ?? [];
  const status = options.onStatus ?? (() => {});
  const conns = new Set<Conn>();
  const refused = new Set<Conn>();
  let closing: Promise<void> | null = null;
  let inputHeld = false;

  const ctx: ModeContext = {
    output: options.output ?? { event: () => {} },
    maxLine: options.maxLine ?? DEFAULTS.maxLine,
    maxQueue: options.maxQueue ?? DEFAULTS.maxQueue,
    name: options.name ?? DEFAULTS.name,
    history: options.history ?? DEFAULTS.history,
  };
  const mode = createMode(modeName, ctx, () => (options.onStopRequest ?? (() => void handle.close()))());

  // A TLS client on a plain port: its ClientHello never reaches the mode, and it is told nothing more.
  const plainPort = options.tls
    ? null
    : new PlainPortGuard(
        (conn, bytes) => mode.data(conn, bytes),
        (conn) => {
          refused.add(conn);
          status(`${conn.peer} tried TLS on a plain port`);
          conn.end();
        },
      );

  /** Why a new connection from `address` may not stay, or null. */
  function admit(address: string): string | null {
    if (closing) return "server shutting down";
    const why = refusal(plainAddress(address), allow, deny);
    if (why) return why === "address denied" ? "not allowed" : why;
    if (conns.size >= maxClients) return "server full";
    return null;
  }

  const handler: SocketHandler<ConnRef> = {
    open(socket) {
      const conn = new Conn(socket, peerName(socket));
      socket.data = { conn };
      const why = admit(socket.remoteAddress ?? "");
      if (why) {
        refused.add(conn);
        status(`refused ${conn.peer}: ${why}`);
        mode.refuse(conn, why);
        return;
      }
      conns.add(conn);
      if (inputHeld) conn.pause("output");
      mode.open(conn);
      plainPort?.open(conn);
    },
    data(socket, chunk) {
      const conn = socket.data?.conn;
      if (!conn || refused.has(conn)) return;
      conn.heard = true;
      if (!plainPort?.data(conn, chunk)) mode.data(conn, chunk);
    },
    drain(socket) {
      socket.data?.conn?.drain();
    },
    end(socket) {
      const conn = socket.data?.conn;
      if (!conn) return;
      conn.peerEnd();
      plainPort?.end(conn);
      if (!refused.has(conn)) mode.end(conn);
    },
    close(socket, error) {
      const conn = socket.data?.conn;
      if (!conn) return;
      conn.markGone();
      plainPort?.close(conn);
      refused.delete(conn);
      if (!conns.delete(conn)) return;
      if (error && !conn.leaveReason) conn.leaveReason = "error";
      mode.close(conn);
    },
    error() {
      // A reset or a failed TLS handshake; `close` follows and does the work.
    },
  };

  if (options.unix) await prepareUnixPath(options.unix);
  if (options.tls) await checkTlsPair(options.tls.cert, options.tls.key);
  const listener = listen(options, handler);
  /** Disconnects the clients silent for the idle timeout: at most a tick or two late, never early. */
  function sweepIdle(now: number): void {
    for (const conn of conns) {
      if (conn.heard) {
        conn.heard = false;
        conn.lastRead = now;
        continue;
      }
      // Not read because of others (a congested room, a full stdout) is not silence (see
      // Conn.restart); an echo client paused because it does not read its echo is idle.
      const heldBack = conn.pausedFor("room") || conn.pausedFor("output");
      if (conn.isOpen && !heldBack && now - conn.lastRead >= idleMs) {
        status(`${conn.peer} timed out`);
        mode.expire(conn, formatDuration(idleMs));
      }
    }
  }
  const tickMs = Math.min(TICK_MS, Math.max(50, idleMs / 4 || TICK_MS));
  const ticker = setInterval(() => {
    const now = Date.now();
    mode.tick(now);
    if (idleMs > 0) sweepIdle(now);
  }, tickMs);

  const unix = options.unix;
  const address = unix ? unix : (listener as TCPSocketListener<ConnRef>).hostname;
  const port = unix ? 0 : (listener as TCPSocketListener<ConnRef>).port;

  const handle: ServerHandle = {
    mode: modeName,
    address,
    port,
    unix,
    label: unix ?? formatHostPort(address, port),
    get clients() {
      return conns.size;
    },
    say(line) {
      if (!closing) mode.say(line);
    },
    holdInput(held) {
      if (held === inputHeld) return;
      inputHeld = held;
      for (const conn of conns) {
        if (held) conn.pause("output");
        else conn.resume("output");
      }
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  async function shutdown(): Promise<void> {
    listener.stop(false);
    mode.shutdown();
    const all = [...conns, ...refused];
    for (const conn of all) {
      conn.leaveReason ??= "shutdown";
      conn.end(SHUTDOWN_GRACE_MS);
    }
    // Conn.end's deadline is reset by progress; the whole shutdown has a hard bound.
    const deadline = setTimeout(() => {
      for (const conn of all) conn.destroy();
    }, SHUTDOWN_GRACE_MS);
    await Promise.all(all.map((conn) => conn.closed));
    clearTimeout(deadline);
    clearInterval(ticker);
    listener.stop(true);
    if (unix) removeUnixPath(unix);
  }

  return handle;
}

function listen(options: ServeOptions, socket: SocketHandler<ConnRef>): Listener {
  const tls = options.tls ? { cert: options.tls.cert, key: options.tls.key } : undefined;
  if (options.unix) {
    try {
      return Bun.listen<ConnRef>({ unix: options.unix, socket, tls, allowHalfOpen: true });
    } catch (error) {
      throw new ChatError(`cannot listen on ${options.unix}: ${reason(error)}`);
    }
  }
  const port = options.port ?? DEFAULTS.port;
  const hosts = options.host ? [unbracket(options.host)] : ["::", "0.0.0.0"];
  let failure: unknown;
  for (const hostname of hosts) {
    try {
      return Bun.listen<ConnRef>({ hostname, port, socket, tls, allowHalfOpen: true });
    } catch (error) {
      failure = error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL") break;
    }
  }
  const hint = (failure as NodeJS.ErrnoException).code === "EADDRINUSE" ? ` (${portInUseHint(port)})` : "";
  throw new ChatError(`cannot listen on ${formatHostPort(hosts[0] ?? "::", port)}: ${reason(failure)}${hint}`);
}
