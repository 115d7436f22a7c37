/**
 * `connect(options)`: opens a TCP, TLS or unix-socket connection with a
 * deadline and retries (each attempt: net/dial.ts), and returns a handle
 * whose writes are queued (see Conn) and whose graceful end is a half-close.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { CONNECT_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_PORT } from "./defaults.ts";
import { ChatError, reason } from "./errors.ts";
import { formatHostPort } from "./net/address.ts";
import { AddressError, type Dialled, type DialOptions, dial, startTimer } from "./net/dial.ts";
import { formatDuration } from "./text/units.ts";

/** `retry`'s first wait; each further one doubles, up to RETRY_MAX_MS. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5000;

export interface ConnectOptions extends DialOptions {
  port?: number;
  unix?: string;
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
  /** Calls `listener` each time the queue shrinks (the socket drained). */
  addDrainListener(listener: () => void): void;
  removeDrainListener(listener: () => void): void;
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
  return options.unix ?? formatHostPort(options.host ?? DEFAULT_HOST, options.port ?? DEFAULT_PORT);
}

async function connectOnce(options: ConnectOptions): Promise<ClientHandle> {
  const label = targetLabel(options);
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  const timedOut = () => new ChatError(`cannot connect to ${label}: timed out after ${formatDuration(timeoutMs)}`);
  if (options.unix) return handle(await dial(options, { unix: options.unix }, label, deadline - Date.now(), timedOut), label);
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const addresses = await beforeDeadline(addressesOf(host), deadline - Date.now(), timedOut).catch((error: unknown) => {
    throw error instanceof ChatError ? error : new ChatError(`cannot connect to ${label}: ${reason(error)}`);
  });
  let failure = new ChatError(`cannot connect to ${label}: no address found`);
  for (const hostname of addresses) {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut();
    try {
      return handle(await dial(options, { hostname, port }, label, left, timedOut), label);
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

function handle({ conn, fingerprint, incoming }: Dialled, label: string): ClientHandle {
  let closing: Promise<void> | null = null;
  return {
    label,
    fingerprint,
    closed: incoming.closed,
    get queued() {
      return conn.queued;
    },
    get isGone() {
      return conn.isGone;
    },
    addDrainListener: (listener) => conn.addDrainListener(listener),
    removeDrainListener: (listener) => conn.removeDrainListener(listener),
    pause: () => conn.pause(),
    resume: () => conn.resume(),
    end: (graceMs) => conn.end(undefined, graceMs),
    destroy: () => conn.destroy(),
    onData: (handler) => incoming.onData(handler),
    send(data) {
      conn.send(typeof data === "string" ? encoder.encode(data) : data);
    },
    finish() {
      conn.end(undefined, Number.POSITIVE_INFINITY);
    },
    close() {
      closing ??= (async () => {
        conn.end();
        await incoming.closed;
      })();
      return closing;
    },
  };
}
