/**
 * `connect(options)`: opens a TCP, TLS or unix-socket connection with a
 * deadline (Bun.connect has none of its own) and retries, and returns a handle
 * whose writes are queued (see Conn) and whose graceful end is a half-close.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Socket, SocketHandler } from "bun";
import { ChatError, reason } from "./errors.ts";
import { formatHostPort } from "./net/address.ts";
import { Conn, type ConnRef } from "./net/conn.ts";
import { FirstBytes, recordVerdict, SNIFF_WAIT_MS } from "./net/tls-sniff.ts";
import { copyOf } from "./text/bytes.ts";
import { formatDuration } from "./text/units.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5000;
const SPEAKS_TLS = "the server speaks TLS: use --tls (or --ca FILE)";
const NOT_TLS = "the server does not speak TLS";
/**
 * How a handshake fails when the server answered with something that is not
 * TLS: text (a bad record header), our own ClientHello echoed back, or a
 * close before the handshake was done (a plain chat server does that when
 * it sees a ClientHello; Bun words it "…disconnected before secure TLS…").
 */
const NOT_TLS_ERRORS =
  /WRONG_VERSION_NUMBER|wrong version|PACKET_LENGTH_TOO_LONG|packet length too long|unknown protocol|UNEXPECTED_MESSAGE|UNEXPECTED_RECORD|disconnected before secure TLS/i;

export interface ConnectOptions {
  host?: string;
  port?: number;
  unix?: string;
  /** TLS: verify against the system CAs, or `ca` (PEM); `insecure` skips verification. */
  tls?: { ca?: string; insecure?: boolean };
  /** Bounds connecting, TLS handshake included (0 = no limit). */
  timeoutMs?: number;
  /** Further attempts after a failure, with exponential backoff. */
  retry?: number;
  onRetry?: (error: ChatError, delayMs: number, left: number) => void;
}

export interface ClientHandle {
  readonly label: string;
  /** SHA-256 fingerprint of the server's certificate (TLS). */
  readonly fingerprint: string | undefined;
  /** Bytes queued and not yet taken by the kernel. */
  readonly queued: number;
  /** The connection is closed (or closing past recall). */
  readonly isGone: boolean;
  /** Called each time the queue shrinks (the socket drained). */
  onDrain(listener: () => void): void;
  /** Stop / start reading from the server (the reader is backed up). */
  pause(): void;
  resume(): void;
  /** Close gracefully once the queue is written, within `graceMs`; then the connection is reset. */
  end(graceMs?: number): void;
  /** Reset at once. */
  destroy(): void;
  /** Received bytes; chunks that arrived before a handler was set are replayed to it. */
  onData(handler: (chunk: Uint8Array) => void): void;
  /** Resolves when the connection is closed, with the error if it was lost. */
  readonly closed: Promise<Error | undefined>;
  send(data: Uint8Array | string): void;
  /** Half-close once everything queued is written; keep reading until the server closes. */
  finish(): void;
  /** Close gracefully (bounded) and wait. Idempotent. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

interface Pending {
  early: Uint8Array[];
  handler: ((chunk: Uint8Array) => void) | null;
  closeError: Error | undefined;
  resolveClosed: (error: Error | undefined) => void;
}

export async function connect(options: ConnectOptions = {}): Promise<ClientHandle> {
  const attempts = (options.retry ?? 0) + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(options);
    } catch (error) {
      const failure = error instanceof ChatError ? error : new ChatError(reason(error));
      if (attempt >= attempts) throw failure;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
      options.onRetry?.(failure, delay, attempts - attempt);
      await Bun.sleep(delay);
    }
  }
}

export function targetLabel(options: ConnectOptions): string {
  return options.unix ?? formatHostPort(options.host ?? "localhost", options.port ?? 5000);
}

/** A failure before any byte was exchanged (refused, unreachable): the next address may work. */
class AddressError extends ChatError {}

async function connectOnce(options: ConnectOptions): Promise<ClientHandle> {
  const label = targetLabel(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  const timedOut = () => new ChatError(`cannot connect to ${label}: timed out after ${formatDuration(timeoutMs)}`);
  if (options.unix) return connectTo(options, { unix: options.unix }, label, deadline - Date.now(), timedOut);
  const host = options.host ?? "localhost";
  const port = options.port ?? 5000;
  const addresses = await beforeDeadline(addressesOf(host), deadline - Date.now(), timedOut).catch((error: unknown) => {
    throw error instanceof ChatError ? error : new ChatError(`cannot connect to ${label}: ${reason(error)}`);
  });
  let failure = new ChatError(`cannot connect to ${label}: no address found`);
  for (const hostname of addresses) {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut();
    try {
      return await connectTo(options, { hostname, port }, label, left, timedOut);
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      failure = error;
    }
  }
  throw failure;
}

/**
 * The addresses of a host, tried one at a time. Bun.connect given a name
 * races every address at once (happy eyeballs, oven-sh/bun#11206), and a
 * dual-stack server sees the losing attempt as a client that joins and
 * leaves. `localhost` is both loopbacks (RFC 6761), whatever /etc/hosts says.
 */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  if (host.toLowerCase() === "localhost") return ["127.0.0.1", "::1"];
  const found = await lookup(host, { all: true });
  return [...new Set(found.map((entry) => entry.address))];
}

function beforeDeadline<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: Timer | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = startTimer(ms, () => reject(timedOut()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer, or none for an infinite wait. */
function startTimer(ms: number, fire: () => void): Timer | undefined {
  return Number.isFinite(ms) ? setTimeout(fire, Math.min(ms, MAX_TIMER_MS)) : undefined;
}

type Target = { unix: string } | { hostname: string; port: number };

function connectTo(
  options: ConnectOptions,
  target: Target,
  label: string,
  timeoutMs: number,
  timedOut: () => ChatError,
): Promise<ClientHandle> {
  const tls = options.tls;
  let resolveClosed: (error: Error | undefined) => void = () => {};
  const closed = new Promise<Error | undefined>((resolve) => {
    resolveClosed = resolve;
  });
  const pending: Pending = { early: [], handler: null, closeError: undefined, resolveClosed };

  return new Promise<ClientHandle>((resolve, reject) => {
    let settled = false;
    let current: Socket<ConnRef> | undefined;
    // Settle before terminating: terminate() runs the close handler at once.
    const settle = (error: ChatError, socket: Socket<ConnRef> | null | undefined = current) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
      socket?.terminate();
    };
    const fail = (why: string, socket?: Socket<ConnRef>) => settle(new ChatError(`cannot connect to ${label}: ${why}`), socket);
    const unreachable = (error: unknown) => settle(new AddressError(`cannot connect to ${label}: ${reason(error)}`));
    const ready = (socket: Socket<ConnRef>) => {
      if (settled) {
        socket.terminate();
        return;
      }
      settled = true;
      clearTimeout(timer);
      const conn = new Conn(socket, label);
      socket.data = { conn };
      resolve(makeHandle(conn, label, tls ? fingerprintOf(socket) : undefined, pending, closed));
    };
    const timer = startTimer(timeoutMs, () => settle(timedOut()));
    const deliver = (s: Socket<ConnRef>, chunk: Uint8Array) => {
      if (pending.handler) pending.handler(chunk);
      else if (s.data?.conn) pending.early.push(copyOf(chunk));
    };
    // A plain connection to a TLS server: its first bytes are a TLS record (an alert), not text.
    const first = tls
      ? null
      : new FirstBytes(recordVerdict, SNIFF_WAIT_MS, (isTls, bytes) => {
          if (isTls) {
            pending.closeError = new ChatError(SPEAKS_TLS);
            current?.data?.conn?.destroy();
          } else if (current && bytes.length > 0) deliver(current, bytes);
        });

    const socket: SocketHandler<ConnRef> = {
      open(s) {
        current = s;
        if (!tls) ready(s);
      },
      handshake(s, success, authorizationError) {
        // A failed handshake comes with its error in `authorizationError` too.
        if (!success && NOT_TLS_ERRORS.test(authorizationError?.message ?? "")) {
          settle(new ChatError(`cannot connect to ${label}: ${NOT_TLS}`), null);
          // Ended, not reset: a reset can make a plain server lose our ClientHello unread (a chat server logs it).
          s.end();
        } else if (authorizationError && !tls?.insecure) fail(`certificate verification failed: ${reason(authorizationError)}`, s);
        else if (!success) fail("TLS handshake failed", s);
        else ready(s);
      },
      data(s, chunk) {
        if (first && !first.isDecided) first.push(chunk);
        else deliver(s, chunk);
      },
      drain(s) {
        s.data?.conn?.drain();
      },
      end(s) {
        first?.release();
        s.data?.conn?.peerEnd();
        // The server finished sending; closing our side completes the close.
        s.data?.conn?.end();
      },
      close(s, error) {
        first?.cancel();
        if (!settled) {
          fail(error ? reason(error) : "connection closed during setup");
          return;
        }
        s.data?.conn?.markGone();
        pending.resolveClosed(error ?? pending.closeError);
      },
      error(_s, error) {
        pending.closeError = error;
      },
      connectError(_s, error) {
        unreachable(error);
      },
    };

    // serverName: the certificate is checked against the name the user gave, not the address tried.
    const tlsOption = tls ? { ca: tls.ca, rejectUnauthorized: !tls.insecure, serverName: options.host } : undefined;
    const common = { socket, tls: tlsOption, allowHalfOpen: true };
    const started = "unix" in target ? Bun.connect<ConnRef>({ ...target, ...common }) : Bun.connect<ConnRef>({ ...target, ...common });
    started.then(
      (s) => {
        // Connected after the deadline: nobody is waiting for it.
        if (settled && !s.data?.conn) s.terminate();
      },
      (error: unknown) => unreachable(error),
    );
  });
}

function makeHandle(
  conn: Conn,
  label: string,
  fingerprint: string | undefined,
  pending: Pending,
  closed: Promise<Error | undefined>,
): ClientHandle {
  let closing: Promise<void> | null = null;
  return {
    label,
    fingerprint,
    closed,
    get queued() {
      return conn.queued;
    },
    get isGone() {
      return conn.isGone;
    },
    onDrain(listener) {
      conn.onDrain = listener;
    },
    pause: () => conn.pause(),
    resume: () => conn.resume(),
    end: (graceMs) => conn.end(graceMs),
    destroy: () => conn.destroy(),
    onData(handler) {
      pending.handler = handler;
      for (const chunk of pending.early.splice(0)) handler(chunk);
    },
    send(data) {
      conn.send(typeof data === "string" ? encoder.encode(data) : data);
    },
    finish() {
      conn.end(Number.POSITIVE_INFINITY);
    },
    close() {
      closing ??= (async () => {
        conn.end();
        await closed;
      })();
      return closing;
    },
  };
}

function fingerprintOf(socket: Socket<ConnRef>): string | undefined {
  try {
    const fingerprint = socket.getPeerCertificate()?.fingerprint256;
    return typeof fingerprint === "string" && fingerprint ? fingerprint : undefined;
  } catch {
    return undefined;
  }
}
