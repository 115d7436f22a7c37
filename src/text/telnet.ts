/**
 * Removes telnet option negotiation (RFC 854/855) from a byte stream, so a
 * `telnet` client's IAC sequences are neither printed nor relayed. 0xFF never
 * occurs in UTF-8 text, so plain clients are unaffected. `IAC IAC` is a
 * literal 0xFF byte and is kept, and so is 0xFF before a byte that is no
 * command (binary or invalid text). `CR NUL`, which a telnet client sends for
 * a bare carriage return (RFC 854, e.g. Enter in character mode), becomes CR.
 * State carries across chunks.
 */
import { copyBytes } from "./bytes.ts";

const NUL = 0;
const CR = 13;
const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;

enum State {
  Data,
  Command,
  Option,
  Sub,
  SubCommand,
}

/**
 * Where `filter` puts the bytes it keeps when it has to remove some: one
 * buffer shared by every filter (a per-connection one would cost up to a read
 * size per client), valid until the next call. Grown to the largest read.
 */
let shared = new Uint8Array(0);

export class TelnetFilter {
  private state = State.Data;
  /** The last byte passed on was CR: a NUL now is the second half of `CR NUL`. */
  private afterCR = false;
  /** How many bytes of what `filter` last returned are valid. */
  length = 0;

  /** The bytes kept from `chunk`, as a new array. */
  push(chunk: Uint8Array): Uint8Array {
    const kept = this.filter(chunk);
    return kept === chunk ? chunk : kept.slice(0, this.length);
  }

  /**
   * Filters `chunk` without allocating: returns `chunk` itself when nothing
   * is removed (plain text), else a shared buffer valid only until the next
   * call on any filter; `length` says how many of its bytes are valid.
   */
  filter(chunk: Uint8Array): Uint8Array {
    this.length = chunk.length;
    if (this.state === State.Data && chunk.indexOf(IAC) < 0 && chunk.indexOf(NUL) < 0) {
      if (chunk.length > 0) this.afterCR = chunk[chunk.length - 1] === CR;
      return chunk;
    }
    // A stray IAC pending from the last chunk can make one more byte than came in.
    if (shared.length < chunk.length + 1) shared = new Uint8Array(chunk.length + 1);
    const out = shared;
    // Binary has an IAC or a NUL every 128 bytes on average: the plain runs
    // between them are found natively and copied; only those bytes are looked at.
    let n = 0;
    let i = 0;
    let nextIac = -2;
    let nextNul = -2;
    while (i < chunk.length) {
      if (this.state === State.Data) {
        if (nextIac !== -1 && nextIac < i) nextIac = chunk.indexOf(IAC, i);
        if (nextNul !== -1 && nextNul < i) nextNul = chunk.indexOf(NUL, i);
        const stop = Math.min(nextIac < 0 ? chunk.length : nextIac, nextNul < 0 ? chunk.length : nextNul);
        if (stop > i) {
          n = copyBytes(chunk, i, stop, out, n);
          this.afterCR = chunk[stop - 1] === CR;
        }
        if (stop === chunk.length) break;
        if (stop === nextIac) this.state = State.Command;
        else if (!this.afterCR) out[n++] = NUL;
        this.afterCR = false;
        i = stop + 1;
      } else if (this.state === State.Sub) {
        const at = chunk.indexOf(IAC, i);
        if (at < 0) break;
        this.state = State.SubCommand;
        i = at + 1;
      } else {
        n = this.command(chunk[i++] ?? 0, out, n);
      }
    }
    this.length = n;
    return out;
  }

  /** One byte after IAC, of an option, or after IAC inside a subnegotiation; returns the new end of `out`. */
  private command(byte: number, out: Uint8Array, n: number): number {
    switch (this.state) {
      case State.Command:
        this.state = State.Data;
        if (byte === IAC) {
          out[n] = IAC;
          return n + 1;
        }
        if (byte >= WILL && byte <= DONT) this.state = State.Option;
        else if (byte === SB) this.state = State.Sub;
        else if (byte < SE) {
          // Not a telnet command: a stray 0xFF in binary or invalid text, kept as it was.
          out[n] = IAC;
          out[n + 1] = byte;
          return n + 2;
        }
        return n;
      case State.Option:
        this.state = State.Data;
        return n;
      default:
        this.state = byte === SE ? State.Data : State.Sub;
        return n;
    }
  }
}
