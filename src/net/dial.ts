/**
 * One attempt to connect to one address, within a deadline (Bun.connect has
 * none of its own): resolves with the open connection, TLS handshake done
 * and checked; rejects with why. A plain connection to a TLS server, and a
 * TLS one to a plain server, are told apart and explained.
 */
import type { Socket, SocketHandler } from "bun";
import { ChatError, reason } from "../errors.ts";
import { copyOf } from "../text/bytes.ts";
import { Conn, type ConnRef } from "./conn.ts";
import { FirstBytes, recordVerdict, SNIFF_WAIT_MS } from "./tls-sniff.ts";

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
/** Longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A failure before any byte was exchanged (refused, unreachable): the next address may work. */
export class AddressError extends ChatError {}

export type Target = { unix: string } | { hostname: string; port: number };

export interface DialOptions {
  /** The name the user gave: a certificate is checked against it, not the address tried. */
  host?: string;
  /** TLS: verify against the system CAs, or `ca` (PEM); `insecure` skips verification. */
  tls?: { ca?: string; insecure?: boolean };
}

export interface Dialled {
  conn: Conn;
  /** SHA-256 fingerprint of the server's certificate (TLS). */
  fingerprint: string | undefined;
  incoming: Incoming;
}

/** What arrives on a connection: chunks (kept until someone takes them), then how it closed. */
export class Incoming {
  /** An error the socket reported before it closed. */
  closeError: Error | undefined;
  /** Resolves when the connection is closed, with the error if it was lost. */
  readonly closed: Promise<Error | undefined>;
  private early: Uint8Array[] = [];
  private handler: ((chunk: Uint8Array) => void) | null = null;
  private resolveClosed: (error: Error | undefined) => void = () => {};

  constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Received bytes; chunks that arrived before a handler was set are replayed to it. */
  onData(handler: (chunk: Uint8Array) => void): void {
    this.handler = handler;
    for (const chunk of this.early.splice(0)) handler(chunk);
  }

  deliver(chunk: Uint8Array): void {
    if (this.handler) this.handler(chunk);
    else this.early.push(copyOf(chunk));
  }

  close(error: Error | undefined): void {
    this.resolveClosed(error ?? this.closeError);
  }
}

export function dial(options: DialOptions, target: Target, label: string, timeoutMs: number, timedOut: () => ChatError): Promise<Dialled> {
  return new Promise((resolve, reject) => new Attempt(options, label, resolve, reject).start(target, timeoutMs, timedOut));
}

/** A timer, or none for an infinite wait. */
export function startTimer(ms: number, fire: () => void): Timer | undefined {
  return Number.isFinite(ms) ? setTimeout(fire, Math.min(ms, MAX_TIMER_MS)) : undefined;
}

class Attempt {
  private settled = false;
  private current: Socket<ConnRef> | undefined;
  private timer: Timer | undefined;
  private readonly incoming = new Incoming();
  /** A plain connection to a TLS server: its first bytes are a TLS record (an alert), not text. */
  private readonly first: FirstBytes | null;

  constructor(
    private readonly options: DialOptions,
    private readonly label: string,
    private readonly resolve: (dialled: Dialled) => void,
    private readonly reject: (error: ChatError) => void,
  ) {
    this.first = options.tls ? null : new FirstBytes(recordVerdict, SNIFF_WAIT_MS, (isTls, bytes) => this.firstBytes(isTls, bytes));
  }

  start(target: Target, timeoutMs: number, timedOut: () => ChatError): void {
    this.timer = startTimer(timeoutMs, () => this.settle(timedOut()));
    const tls = this.options.tls;
    // serverName: the certificate is checked against the name the user gave, not the address tried.
    const tlsOption = tls ? { ca: tls.ca, rejectUnauthorized: !tls.insecure, serverName: this.options.host } : undefined;
    const common = { socket: this.handler(), tls: tlsOption, allowHalfOpen: true };
    const started = "unix" in target ? Bun.connect<ConnRef>({ ...target, ...common }) : Bun.connect<ConnRef>({ ...target, ...common });
    started.then(
      (s) => {
        // Connected after the deadline: nobody is waiting for it.
        if (this.settled && !s.data?.conn) s.terminate();
      },
      (error: unknown) => this.unreachable(error),
    );
  }

  private handler(): SocketHandler<ConnRef> {
    return {
      open: (s) => {
        this.current = s;
        if (!this.options.tls) this.ready(s);
      },
      handshake: (s, success, authorizationError) => this.handshake(s, success, authorizationError),
      data: (s, chunk) => {
        if (this.first && !this.first.isDecided) this.first.push(chunk);
        else this.deliver(s, chunk);
      },
      drain: (s) => s.data?.conn?.drain(),
      end: (s) => {
        this.first?.release();
        s.data?.conn?.peerEnd();
        // The server finished sending; closing our side completes the close.
        s.data?.conn?.end();
      },
      close: (s, error) => {
        this.first?.cancel();
        if (!this.settled) {
          this.fail(error ? reason(error) : "connection closed during setup");
          return;
        }
        s.data?.conn?.markGone();
        this.incoming.close(error);
      },
      error: (_s, error) => {
        this.incoming.closeError = error;
      },
      connectError: (_s, error) => this.unreachable(error),
    };
  }

  private handshake(s: Socket<ConnRef>, success: boolean, authorizationError: Error | null): void {
    const insecure = this.options.tls?.insecure;
    // A failed handshake comes with its error in `authorizationError` too.
    if (!success && NOT_TLS_ERRORS.test(authorizationError?.message ?? "")) {
      this.settle(new ChatError(`cannot connect to ${this.label}: ${NOT_TLS}`), null);
      // Ended, not reset: a reset can make a plain server lose our ClientHello unread (a chat server logs it).
      s.end();
    } else if (authorizationError && !insecure) this.fail(`certificate verification failed: ${reason(authorizationError)}`, s);
    else if (!success) this.fail("TLS handshake failed", s);
    else this.ready(s);
  }

  private ready(socket: Socket<ConnRef>): void {
    if (this.settled) {
      socket.terminate();
      return;
    }
    this.settled = true;
    clearTimeout(this.timer);
    const conn = new Conn(socket, this.label);
    socket.data = { conn };
    this.resolve({ conn, fingerprint: this.options.tls ? fingerprintOf(socket) : undefined, incoming: this.incoming });
  }

  private firstBytes(isTls: boolean, bytes: Uint8Array): void {
    if (isTls) {
      this.incoming.closeError = new ChatError(SPEAKS_TLS);
      this.current?.data?.conn?.destroy();
    } else if (this.current && bytes.length > 0) this.deliver(this.current, bytes);
  }

  private deliver(s: Socket<ConnRef>, chunk: Uint8Array): void {
    // Bytes of an attempt given up on are nobody's.
    if (s.data?.conn) this.incoming.deliver(chunk);
  }

  /** Rejects (once) and drops the socket. Settled first: terminate() runs the close handler at once. */
  private settle(error: ChatError, socket: Socket<ConnRef> | null | undefined = this.current): void {
    if (!this.settled) {
      this.settled = true;
      clearTimeout(this.timer);
      this.reject(error);
    }
    socket?.terminate();
  }

  private fail(why: string, socket?: Socket<ConnRef>): void {
    this.settle(new ChatError(`cannot connect to ${this.label}: ${why}`), socket);
  }

  private unreachable(error: unknown): void {
    this.settle(new AddressError(`cannot connect to ${this.label}: ${reason(error)}`));
  }
}

function fingerprintOf(socket: Socket<ConnRef>): string | undefined {
  try {
    const fingerprint = socket.getPeerCertificate()?.fingerprint256;
    return typeof fingerprint === "string" && fingerprint ? fingerprint : undefined;
  } catch {
    return undefined;
  }
}
