/**
 * Where a server listens: a unix socket (a stale file left by a crashed
 * server replaced), or a port on one address or on every interface (IPv6
 * and IPv4 in one socket, or IPv4 alone where there is no IPv6). Also the
 * name each peer goes by.
 */
import type { Socket, SocketHandler, TCPSocketListener, UnixSocketListener } from "bun";
import { DEFAULT_PORT } from "../defaults.ts";
import { ChatError, portInUseHint, reason } from "../errors.ts";
import { formatHostPort, plainAddress, unbracket } from "../net/address.ts";
import type { ConnRef } from "../net/conn.ts";
import { prepareUnixPath, removeUnixPath } from "../net/unix.ts";
import { checkTlsPair } from "../tls.ts";

export interface ListenOptions {
  /** Default: all interfaces, IPv4 and IPv6. */
  host?: string;
  port?: number;
  /** Listen on a unix socket instead of host and port. */
  unix?: string;
  /** PEM certificate and key: serve TLS. */
  tls?: { cert: string; key: string };
}

export interface Listening {
  readonly address: string;
  /** 0 for a unix socket. */
  readonly port: number;
  readonly unix: string | undefined;
  /** `HOST:PORT` or the unix socket path, as shown in `listening on …`. */
  readonly label: string;
  /** Stops accepting; open connections stay. */
  stopAccepting(): void;
  /** Stops accepting for now (the listener is closed: Bun cannot pause one); open connections stay. */
  pause(): void;
  /** Listens again on the same address after `pause`; throws a ChatError when it cannot. */
  resume(): void;
  /** Closes the listener for good and removes its unix socket file. */
  close(): void;
}

export async function listen(options: ListenOptions, handler: SocketHandler<ConnRef>): Promise<Listening> {
  const unix = options.unix;
  if (unix) await prepareUnixPath(unix);
  if (options.tls) await checkTlsPair(options.tls.cert, options.tls.key);
  const tls = options.tls ? { cert: options.tls.cert, key: options.tls.key, ciphers: TLS12_CIPHERS } : undefined;
  if (unix) {
    // Bun removes the socket file when a listener stops; should one be left, it is ours.
    const again = () => {
      removeUnixPath(unix);
      return listenUnix(unix, handler, tls);
    };
    return listening(listenUnix(unix, handler, tls), again, unix, 0, unix);
  }
  const listener = listenTcp(options.host, options.port ?? DEFAULT_PORT, handler, tls);
  const { hostname, port } = listener;
  return listening(listener, () => listenTcp(hostname, port, handler, tls), hostname, port, undefined);
}

/**
 * The TLS 1.2 suites offered (an OpenSSL cipher string): forward-secret (ECDHE) and AEAD
 * (AES-GCM, ChaCha20-Poly1305) only, so no static-RSA key exchange and no CBC. TLS 1.3's
 * suites all are, and this string does not touch them.
 */
export const TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20";

type Listener = TCPSocketListener<ConnRef> | UnixSocketListener<ConnRef>;
type Tls = ListenOptions["tls"];

function listening(first: Listener, again: () => Listener, address: string, port: number, unix: string | undefined): Listening {
  let listener = first;
  let accepting = true;
  let stopped = false;
  const pause = () => {
    if (accepting) listener.stop(false);
    accepting = false;
  };
  return {
    address,
    port,
    unix,
    label: unix ?? formatHostPort(address, port),
    stopAccepting() {
      stopped = true;
      pause();
    },
    pause,
    resume() {
      if (stopped || accepting) return;
      listener = again();
      accepting = true;
    },
    close() {
      stopped = true;
      listener.stop(true);
      if (unix) removeUnixPath(unix);
    },
  };
}

function listenUnix(unix: string, socket: SocketHandler<ConnRef>, tls: Tls): UnixSocketListener<ConnRef> {
  try {
    return Bun.listen<ConnRef>({ unix, socket, tls, allowHalfOpen: true });
  } catch (error) {
    throw new ChatError(`cannot listen on ${unix}: ${reason(error)}`);
  }
}

function listenTcp(host: string | undefined, port: number, socket: SocketHandler<ConnRef>, tls: Tls): TCPSocketListener<ConnRef> {
  const hosts = host ? [unbracket(host)] : ["::", "0.0.0.0"];
  let failure: unknown;
  for (const hostname of hosts) {
    try {
      return Bun.listen<ConnRef>({ hostname, port, socket, tls, allowHalfOpen: true });
    } catch (error) {
      failure = error;
      // No IPv6 on this machine: every interface is IPv4's.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL") break;
    }
  }
  const hint = (failure as NodeJS.ErrnoException).code === "EADDRINUSE" ? ` (${portInUseHint(port)})` : "";
  throw new ChatError(`cannot listen on ${formatHostPort(hosts[0] ?? "::", port)}: ${reason(failure)}${hint}`);
}

let localPeers = 0;

/** What a peer is called in status lines and events: `HOST:PORT`, or `local-N` on a unix socket. */
export function peerName(socket: Socket<ConnRef>): string {
  const address = socket.remoteAddress;
  if (!address) return `local-${++localPeers}`;
  return formatHostPort(plainAddress(address), socket.remotePort);
}
