/**
 * The server's connections, and where each socket event goes: a new one is
 * admitted or refused; an admitted one's bytes reach the mode (on a plain
 * port after its first bytes are known not to be TLS), and its idle clock
 * is kept; a refused one is only closed.
 */
import type { SocketHandler } from "bun";
import { TLS_HANDSHAKE_MS } from "../defaults.ts";
import type { BoundMode } from "../modes/mode.ts";
import { plainAddress } from "../net/address.ts";
import { Conn, type ConnRef } from "../net/conn.ts";
import { PlainPortGuard } from "../net/plain-port.ts";
import { type AdmissionRules, admissionRefusal } from "./admission.ts";
import { CrowdCollector } from "./collect.ts";
import type { IdleSweep } from "./idle.ts";
import { peerName } from "./listen.ts";

const NEWLINE = 0x0a;

/**
 * TCP keepalive on every accepted socket, first probe after this much silence: a peer that
 * vanished without a FIN or reset (power lost, a NAT or firewall that dropped the flow) is
 * otherwise held for ever when there is no --idle-timeout, with its slot of --max-clients and
 * --max-per-address; the kernel's probes find it gone and the socket closes. A minute also
 * keeps a quiet member's NAT mapping alive, and costs a quiet link a few bytes a minute.
 */
export const KEEPALIVE_MS = 60_000;

/**
 * A refused connection (told why, its writes shut) is closed this long after it was accepted,
 * whether or not its peer has closed: within half a second, so refusals cannot hold the
 * descriptors the server needs (and a peer that reads has its line long before).
 */
export const REFUSED_CLOSE_MS = 400;

/** Told of every socket opened and closed (the open-file budget). */
export interface SocketCounter {
  opened(): void;
  closed(): void;
}

export interface ConnectionsOptions {
  mode: BoundMode;
  rules: AdmissionRules;
  idle: IdleSweep;
  /** Status: refused connections and the like. */
  status: (text: string) => void;
  /** A TLS listener: no ClientHello to look for, and a deadline for each handshake (ms). */
  tls: boolean;
  handshakeMs?: number;
}

export class Connections {
  readonly handler: SocketHandler<ConnRef>;
  private readonly admitted = new Set<Conn>();
  /** Told why they may not stay and closing, each with its deadline: the mode never sees their bytes. */
  private readonly refused = new Map<Conn, Timer>();
  /** Admitted connections per remote address (TCP only: a unix socket peer has none). */
  private readonly perAddress = new Map<string, number>();
  private readonly addressOf = new Map<Conn, string>();
  /** TLS connections admitted (they count) but not yet handed to the mode: their handshake is under way. */
  private readonly shaking = new Map<Conn, Timer>();
  private readonly mode: BoundMode;
  private readonly idle: IdleSweep;
  private readonly plainPort: PlainPortGuard | null;
  private inputHeld = false;
  private closing = false;
  private counter: SocketCounter | null = null;
  private readonly collector = new CrowdCollector();

  constructor(private readonly options: ConnectionsOptions) {
    this.mode = options.mode;
    this.idle = options.idle;
    // A TLS client on a plain port: its ClientHello never reaches the mode, and it is told nothing more.
    this.plainPort = options.tls
      ? null
      : new PlainPortGuard(
          (conn, bytes) => this.mode.data(conn, bytes),
          (conn) => this.tlsOnPlainPort(conn),
        );
    this.handler = {
      open: (socket) => this.open(new Conn(socket, peerName(socket))),
      data: (socket, chunk) => this.data(socket.data?.conn, chunk),
      drain: (socket) => socket.data?.conn?.drain(),
      end: (socket) => this.end(socket.data?.conn),
      // A server's handshake: its authorization error is about a client certificate, which is not asked for.
      handshake: (socket, success) => this.shaken(socket.data?.conn, success),
      close: (socket, error) => this.close(socket.data?.conn, error),
      // A reset or a failed TLS handshake; `close` follows and does the work.
      error: () => {},
    };
  }

  /** Admitted connections. */
  get size(): number {
    return this.admitted.size;
  }

  /** Stops (true) or restarts (false) reading from every client: the server's own output is backed up. */
  holdInput(held: boolean): void {
    if (held === this.inputHeld) return;
    this.inputHeld = held;
    for (const conn of this.admitted) {
      if (held) conn.pause("output");
      else conn.resume("output");
    }
  }

  /** The server is shutting down: whoever connects from now on is refused. */
  refuseAll(): void {
    this.closing = true;
  }

  /** The server's tick (memory a crowd that left held is collected then). */
  tick(): void {
    this.collector.tick();
  }

  /** Every connection, admitted and refused. */
  all(): Conn[] {
    return [...this.admitted, ...this.refused.keys()];
  }

  /** Tells `counter` of every socket opened and closed from now on. */
  countSockets(counter: SocketCounter): void {
    this.counter = counter;
  }

  private open(conn: Conn): void {
    conn.socket.data = { conn };
    this.counter?.opened();
    const remote = conn.socket.remoteAddress ?? "";
    const address = remote ? plainAddress(remote) : "";
    const fromAddress = address ? (this.perAddress.get(address) ?? 0) : 0;
    const why = admissionRefusal(this.options.rules, remote, this.admitted.size, this.closing, fromAddress) ?? this.mode.refusal(address);
    if (why) {
      this.refuse(conn);
      this.options.status(`refused ${conn.peer}: ${why}`);
      this.mode.refuse(conn, why);
      return;
    }
    this.admitted.add(conn);
    if (address) {
      this.perAddress.set(address, fromAddress + 1);
      this.addressOf.set(conn, address);
      conn.socket.setKeepAlive(true, KEEPALIVE_MS);
    }
    this.idle.watch(conn);
    if (this.inputHeld) conn.pause("output");
    if (this.options.tls) {
      // The mode meets it once it speaks TLS: a stalled handshake never joins a room.
      const ms = this.options.handshakeMs ?? TLS_HANDSHAKE_MS;
      this.shaking.set(
        conn,
        setTimeout(() => this.handshakeTimedOut(conn, ms), ms),
      );
      return;
    }
    this.mode.open(conn);
    this.plainPort?.open(conn);
  }

  private shaken(conn: Conn | null | undefined, success: boolean): void {
    if (!conn) return;
    const timer = this.shaking.get(conn);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.shaking.delete(conn);
    if (success && conn.isOpen) this.mode.open(conn);
    // Not TLS, or input that ended first: a reset tells a plain client something was wrong.
    else if (!success) conn.destroy("error");
  }

  private handshakeTimedOut(conn: Conn, ms: number): void {
    if (!this.shaking.delete(conn)) return;
    this.options.status(`${conn.peer} did not finish its TLS handshake within ${ms / 1000}s`);
    conn.destroy("timed out");
  }

  private data(conn: Conn | null | undefined, chunk: Uint8Array): void {
    if (!conn || this.refused.has(conn)) return;
    // Only a complete line counts as input: a byte dribbled now and then does not keep a connection.
    if (this.idle.enabled && chunk.includes(NEWLINE)) this.idle.heard(conn);
    if (!this.plainPort?.data(conn, chunk)) this.mode.data(conn, chunk);
  }

  private end(conn: Conn | null | undefined): void {
    if (!conn) return;
    if (this.shaking.has(conn)) {
      // Its input ended before a handshake did: it never will.
      conn.destroy("error");
      return;
    }
    conn.peerEnd();
    this.plainPort?.end(conn);
    if (!this.refused.has(conn)) this.mode.end(conn);
  }

  private close(conn: Conn | null | undefined, error: Error | undefined): void {
    if (!conn) return;
    this.counter?.closed();
    conn.markGone(error);
    this.plainPort?.close(conn);
    const deadline = this.refused.get(conn);
    if (deadline !== undefined) clearTimeout(deadline);
    this.refused.delete(conn);
    if (!this.admitted.delete(conn)) return;
    this.collector.closed();
    this.countOut(conn);
    this.idle.forget(conn);
    const timer = this.shaking.get(conn);
    if (timer !== undefined) {
      // Never reached the mode: nothing to tell it.
      clearTimeout(timer);
      this.shaking.delete(conn);
      return;
    }
    this.mode.close(conn);
  }

  private countOut(conn: Conn): void {
    const address = this.addressOf.get(conn);
    if (address === undefined) return;
    this.addressOf.delete(conn);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }

  /** The mode (or the plain-port check) tells `conn` why and ends it; it is closed within REFUSED_CLOSE_MS. */
  private refuse(conn: Conn): void {
    this.refused.set(
      conn,
      setTimeout(() => conn.destroy(), REFUSED_CLOSE_MS),
    );
  }

  private tlsOnPlainPort(conn: Conn): void {
    this.refuse(conn);
    this.options.status(`${conn.peer} tried TLS on a plain port`);
    conn.end();
  }
}
