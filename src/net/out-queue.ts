/**
 * A connection's outgoing bytes the kernel has not taken yet, in order,
 * written with as few syscalls as pays: small chunks are copied into one
 * buffer and written together, a big one is written by itself.
 */

/** A queue this size or more is written as one coalesced buffer per syscall. */
export const COALESCE_BYTES = 64 * 1024;
/**
 * A queued chunk this big is written by itself, not joined with the next:
 * copying it would cost more than the syscall saved (a room batch of lines
 * goes to every member; 100 members = 100 copies).
 */
export const WRITE_ALONE_BYTES = 16 * 1024;
/**
 * Written chunks at the queue's head are cut off once there are this many:
 * not after every write (a copy each time), not never (the array would only grow).
 */
const COMPACT_AFTER_CHUNKS = 1024;

/** How a write went: the kernel took all it was offered, refused some (wait for `drain`), or the socket is closed. */
export type WriteOutcome = "taken" | "blocked" | "lost";

/** What the queue writes to: Bun's socket (`write` returns the bytes taken, -1 once closed). */
export interface Writable {
  write(bytes: Uint8Array): number;
}

export class OutQueue {
  private queue: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;

  /** Bytes queued. */
  get size(): number {
    return this.bytes;
  }

  push(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.bytes += bytes.length;
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Writes from the head until the kernel takes less than it is offered, or all is written. */
  writeTo(socket: Writable): WriteOutcome {
    let outcome: WriteOutcome = "taken";
    while (this.head < this.queue.length) {
      const parts = this.gather();
      const chunk = parts === 1 ? (this.queue[this.head] ?? EMPTY) : gathered;
      const written = socket.write(chunk);
      if (written < 0) return "lost";
      if (written < chunk.length) outcome = "blocked";
      if (written === 0) break;
      this.bytes -= written;
      if (written < chunk.length) {
        this.keepUnwritten(parts, chunk, written);
        break;
      }
      for (let i = 0; i < parts; i++) this.queue[this.head++] = EMPTY;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER_CHUNKS) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return outcome;
  }

  /**
   * How many queued chunks to write at once: the head alone, or several small
   * ones copied into `gathered` (shared by every connection: `socket.write`
   * copies before it returns, so a buffer per write would only be garbage; a
   * room of 2,000 sends each member thousands of small notices).
   */
  private gather(): number {
    const first = this.queue[this.head] ?? EMPTY;
    if (first.length >= WRITE_ALONE_BYTES || this.head + 1 >= this.queue.length) return 1;
    let size = 0;
    let end = this.head;
    while (end < this.queue.length && size + (this.queue[end] ?? EMPTY).length <= COALESCE_BYTES) {
      size += (this.queue[end++] ?? EMPTY).length;
    }
    if (end - this.head < 2) return 1;
    gathered = gatherBuffer.subarray(0, size);
    let at = 0;
    for (let i = this.head; i < end; i++) {
      const part = this.queue[i] ?? EMPTY;
      gatherBuffer.set(part, at);
      at += part.length;
    }
    return end - this.head;
  }

  /** A partial write of `parts` chunks: what is left becomes the head, as one chunk of its own. */
  private keepUnwritten(parts: number, chunk: Uint8Array, written: number): void {
    const rest = parts === 1 ? chunk.subarray(written) : chunk.slice(written);
    for (let i = 1; i < parts; i++) this.queue[this.head++] = EMPTY;
    this.queue[this.head] = rest;
  }
}

const EMPTY = new Uint8Array(0);
/** Where `gather` joins small chunks; `gathered` is the part in use. */
const gatherBuffer = new Uint8Array(COALESCE_BYTES);
let gathered = EMPTY;
