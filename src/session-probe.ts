/**
 * Tells a room from any other server by the first bytes it sends: a room
 * greets first (`* welcome, you are NAME … /nick …`). Bytes that cannot be
 * the start of a greeting settle it at once, so a byte stream from an echo
 * server is never held back waiting for a newline.
 */
import { GREETING } from "./room-link.ts";
import { decodeLine } from "./text/sanitize.ts";

const START = new TextEncoder().encode("* welcome, you are ");
/** A greeting is far shorter than this; past it, it is not one. */
const GREETING_MAX = 4096;
const LF = 0x0a;
const CR = 0x0d;

export type Verdict = "room" | "other";

/** A room greets first; other servers are given this long (at least) to do so. */
export const GREETING_WAIT_MS = 300;
/** The longest greeting wait, however slow the link. */
const GREETING_WAIT_MAX_MS = 2000;
/** On a slow link the greeting wait is this many times what connecting took (a round trip or two). */
const GREETING_WAIT_PER_CONNECT = 4;

/** How long to wait for a greeting: scaled to how long connecting took; the longest on a reconnect (null), which is to a room. */
export function greetingWait(connectMs: number | null): number {
  if (connectMs === null) return GREETING_WAIT_MAX_MS;
  return Math.min(GREETING_WAIT_MAX_MS, Math.max(GREETING_WAIT_MS, GREETING_WAIT_PER_CONNECT * connectMs));
}

export class Probe {
  decided = false;
  private buffer = new Uint8Array(0);

  /** `done` gets the verdict, the bytes after the greeting (room) or every byte so far (other). */
  constructor(private readonly done: (verdict: Verdict, bytes: Uint8Array, greeting?: string) => void) {}

  push(chunk: Uint8Array): void {
    if (this.decided) return;
    const next = new Uint8Array(this.buffer.length + chunk.length);
    next.set(this.buffer);
    next.set(chunk, this.buffer.length);
    this.buffer = next;
    this.check();
  }

  /** The connection closed: whatever came is not a room's. */
  end(): void {
    if (!this.decided) this.settle("other", this.buffer);
  }

  private check(): void {
    const bytes = this.buffer;
    const n = Math.min(bytes.length, START.length);
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== START[i]) {
        this.settle("other", bytes);
        return;
      }
    }
    const lf = bytes.indexOf(LF);
    if (lf < 0) {
      if (bytes.length > GREETING_MAX) this.settle("other", bytes);
      return;
    }
    const lineEnd = lf > 0 && bytes[lf - 1] === CR ? lf - 1 : lf;
    const line = decodeLine(bytes.subarray(0, lineEnd));
    if (GREETING.test(line)) this.settle("room", bytes.subarray(lf + 1), line);
    else this.settle("other", bytes);
  }

  private settle(verdict: Verdict, bytes: Uint8Array, greeting?: string): void {
    this.decided = true;
    this.buffer = new Uint8Array(0);
    this.done(verdict, bytes, greeting);
  }
}
