/**
 * Telling TLS from plain text by a connection's first bytes, so that a TLS
 * client on a plain port (or a plain client of a TLS server) is explained
 * instead of its handshake bytes being shown as text.
 *
 * A TLS record starts with a content type, then the legacy record version
 * (3,x), then a 16-bit length (RFC 8446 §5.1,
 * https://www.rfc-editor.org/rfc/rfc8446#section-5.1); a handshake record's
 * fragment starts with the message type, 1 for a ClientHello (§4). Three bytes
 * decide; plain text never starts with them (0x14–0x17 are control characters).
 */

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
/** change_cipher_spec(20), alert(21), handshake(22), application_data(23). */
const FIRST_RECORD_TYPE = 0x14;
const LAST_RECORD_TYPE = 0x17;
const VERSION_MAJOR = 0x03;
/** SSL 3.0 (3,0) to TLS 1.3's (3,4); a TLS 1.3 record still says (3,1) or (3,3). */
const LAST_VERSION_MINOR = 0x04;
/** Where a handshake record's message type is: after the 5-byte record header. */
const HANDSHAKE_TYPE_AT = 5;

/**
 * How long a connection's first byte or two may wait for the rest of a
 * possible TLS header: a client writes its ClientHello (a server its alert)
 * at once, so the rest follows within a round trip.
 */
export const SNIFF_WAIT_MS = 500;

/** true or false once the bytes tell; undefined while they are too few to (a prefix of a match). */
export type Verdict = boolean | undefined;

function recordHeader(bytes: Uint8Array, isType: (type: number) => boolean): Verdict {
  const type = bytes[0];
  const major = bytes[1];
  const minor = bytes[2];
  if (type === undefined) return undefined;
  if (!isType(type)) return false;
  if (major === undefined) return undefined;
  if (major !== VERSION_MAJOR) return false;
  if (minor === undefined) return undefined;
  return minor <= LAST_VERSION_MINOR;
}

/** Whether `bytes`, the first a server got, are a TLS ClientHello. */
export function clientHelloVerdict(bytes: Uint8Array): Verdict {
  const header = recordHeader(bytes, (type) => type === HANDSHAKE);
  if (header !== true) return header;
  const message = bytes[HANDSHAKE_TYPE_AT];
  return message === undefined || message === CLIENT_HELLO;
}

/** Whether `bytes`, the first a client got, are a TLS record (a TLS server's alert or ServerHello). */
export function recordVerdict(bytes: Uint8Array): Verdict {
  return recordHeader(bytes, (type) => type >= FIRST_RECORD_TYPE && type <= LAST_RECORD_TYPE);
}

export function looksLikeTlsClientHello(bytes: Uint8Array): boolean {
  return clientHelloVerdict(bytes) === true;
}

export function looksLikeTlsRecord(bytes: Uint8Array): boolean {
  return recordVerdict(bytes) === true;
}

/**
 * Holds a connection's first bytes until `verdict` can tell (a TLS header
 * split after its first byte or two), then hands them on once, with the
 * verdict. Bounded: at most two bytes, for at most `waitMs`; then (or when
 * `release` says no more are coming) they are taken as plain.
 */
export class FirstBytes {
  private held: Uint8Array | null = null;
  private timer: Timer | undefined;
  private done = false;

  constructor(
    private readonly verdict: (bytes: Uint8Array) => Verdict,
    private readonly waitMs: number,
    private readonly decided: (tls: boolean, bytes: Uint8Array) => void,
  ) {}

  get isDecided(): boolean {
    return this.done;
  }

  /** `chunk` may be a read buffer that is reused: what is held is a copy. */
  push(chunk: Uint8Array): void {
    if (this.done) return;
    const bytes = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    const tls = this.verdict(bytes);
    if (tls !== undefined) {
      this.finish(tls, bytes);
      return;
    }
    this.held = new Uint8Array(bytes);
    this.timer ??= setTimeout(() => this.release(), this.waitMs);
  }

  /** No more bytes are coming (the peer half-closed, or the wait is over): what is held is plain. */
  release(): void {
    if (!this.done) this.finish(false, this.held ?? new Uint8Array(0));
  }

  /** The connection is gone: hand on nothing. */
  cancel(): void {
    clearTimeout(this.timer);
    this.done = true;
    this.held = null;
  }

  private finish(tls: boolean, bytes: Uint8Array): void {
    this.cancel();
    this.decided(tls, bytes);
  }
}
