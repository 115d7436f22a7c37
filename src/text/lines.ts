/**
 * Splits a byte stream into lines on `\n`, dropping one trailing `\r` (CRLF from
 * telnet and Windows clients). A line longer than `maxLine` bytes is cut at the
 * limit, on a UTF-8 character boundary, and the rest of it is skipped without
 * being stored, so memory stays bounded however long a "line" a peer sends.
 *
 * Lines are handed over as bytes; `\n` never occurs inside a UTF-8 multi-byte
 * character, so decoding each complete line keeps characters split across TCP
 * reads intact.
 */
export type LineHandler = (line: Uint8Array, cut: boolean) => void;

const LF = 10;
const CR = 13;

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private held = 0;
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: LineHandler,
  ) {}

  /** Feeds a chunk; calls the handler for every line it completes. */
  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.skipping) {
        if (nl < 0) return;
        this.skipping = false;
        start = nl + 1;
        continue;
      }
      if (this.held + (end - start) > this.maxLine) {
        this.cut(chunk.subarray(start, start + this.maxLine - this.held));
        if (nl < 0) {
          this.skipping = true;
          return;
        }
      } else if (nl < 0) {
        this.parts.push(chunk.slice(start));
        this.held += chunk.length - start;
        return;
      } else {
        this.emit(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
  }

  /** Emits a final line that had no newline (the peer closed). */
  flush(): void {
    if (this.held > 0) this.emit(new Uint8Array(0));
    this.skipping = false;
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.held;
  }

  private take(tail: Uint8Array): Uint8Array {
    if (this.held === 0) return tail;
    const line = new Uint8Array(this.held + tail.length);
    let at = 0;
    for (const part of this.parts) {
      line.set(part, at);
      at += part.length;
    }
    line.set(tail, at);
    this.parts = [];
    this.held = 0;
    return line;
  }

  private emit(tail: Uint8Array): void {
    const line = this.take(tail);
    const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    this.onLine(line.subarray(0, end), false);
  }

  private cut(tail: Uint8Array): void {
    const line = this.take(tail);
    this.onLine(line.subarray(0, utf8Boundary(line)), true);
  }
}

/** The length of the longest prefix of `bytes` that does not end inside a UTF-8 character. */
export function utf8Boundary(bytes: Uint8Array): number {
  const end = bytes.length;
  let lead = end - 1;
  // Continuation bytes are 10xxxxxx; a character has at most 3 of them.
  while (lead > 0 && end - lead <= 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  const first = bytes[lead] ?? 0;
  const size = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead >= 0 && lead + size > end ? lead : end;
}
