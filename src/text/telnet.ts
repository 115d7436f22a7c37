/**
 * Removes telnet option negotiation (RFC 854/855) from a byte stream, so a
 * `telnet` client's IAC sequences are neither printed nor relayed. 0xFF never
 * occurs in UTF-8 text, so plain clients are unaffected. `IAC IAC` is a
 * literal 0xFF byte and is kept, and so is 0xFF before a byte that is no
 * command (binary or invalid text). State carries across chunks.
 */
const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;

const enum State {
  Data,
  Command,
  Option,
  Sub,
  SubCommand,
}

export class TelnetFilter {
  private state = State.Data;

  push(chunk: Uint8Array): Uint8Array {
    if (this.state === State.Data && chunk.indexOf(IAC) < 0) return chunk;
    const out = new Uint8Array(chunk.length + 1);
    let n = 0;
    for (const byte of chunk) {
      switch (this.state) {
        case State.Data:
          if (byte === IAC) this.state = State.Command;
          else out[n++] = byte;
          break;
        case State.Command:
          if (byte === IAC) {
            out[n++] = IAC;
            this.state = State.Data;
          } else if (byte >= WILL && byte <= DONT) this.state = State.Option;
          else if (byte === SB) this.state = State.Sub;
          else if (byte < SE) {
            // Not a telnet command: a stray 0xFF in binary or invalid text, kept as it was.
            out[n++] = IAC;
            out[n++] = byte;
            this.state = State.Data;
          } else this.state = State.Data;
          break;
        case State.Option:
          this.state = State.Data;
          break;
        case State.Sub:
          if (byte === IAC) this.state = State.SubCommand;
          break;
        case State.SubCommand:
          this.state = byte === SE ? State.Data : State.Sub;
          break;
      }
    }
    return out.subarray(0, n);
  }
}
