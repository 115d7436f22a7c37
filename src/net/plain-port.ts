/**
 * A plain (non-TLS) listener's look at each connection's first bytes: a TLS
 * ClientHello is kept from the mode (never echoed, printed, relayed or kept in
 * history) and reported; anything else reaches the mode unchanged.
 */
import type { Conn } from "./conn.ts";
import { clientHelloVerdict, FirstBytes, SNIFF_WAIT_MS } from "./tls-sniff.ts";

export class PlainPortGuard {
  /** Connections whose first bytes are not known yet. */
  private readonly sniffing = new Map<Conn, FirstBytes>();

  constructor(
    /** Bytes for the mode: the first ones, once they are known not to be TLS. */
    private readonly plain: (conn: Conn, bytes: Uint8Array) => void,
    /** The connection opened with a ClientHello. */
    private readonly tls: (conn: Conn) => void,
  ) {}

  open(conn: Conn): void {
    const first = new FirstBytes(clientHelloVerdict, SNIFF_WAIT_MS, (tls, bytes) => {
      this.sniffing.delete(conn);
      if (tls) this.tls(conn);
      else if (bytes.length > 0) this.plain(conn, bytes);
    });
    this.sniffing.set(conn, first);
  }

  /** Takes `chunk` while the connection's first bytes are looked at (true); false: it is the mode's. */
  data(conn: Conn, chunk: Uint8Array): boolean {
    if (this.sniffing.size === 0) return false;
    const first = this.sniffing.get(conn);
    if (!first) return false;
    first.push(chunk);
    return true;
  }

  /** The client half-closed: a byte or two held are plain, and go to the mode before its `end`. */
  end(conn: Conn): void {
    this.sniffing.get(conn)?.release();
  }

  close(conn: Conn): void {
    this.sniffing.get(conn)?.cancel();
    this.sniffing.delete(conn);
  }
}
