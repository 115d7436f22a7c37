/** One client's incoming bytes as sanitised text lines: telnet negotiation removed, lines framed and decoded. */
import { LineSplitter } from "../text/lines.ts";
import { decodeLine } from "../text/sanitize.ts";
import { TelnetFilter } from "../text/telnet.ts";

export class TextInput {
  private readonly telnet = new TelnetFilter();
  private readonly splitter: LineSplitter;

  constructor(maxLine: number, onLine: (text: string, cut: boolean) => void) {
    this.splitter = new LineSplitter(maxLine, (line, cut) => onLine(decodeLine(line), cut));
  }

  push(chunk: Uint8Array): void {
    this.splitter.push(this.telnet.push(chunk));
  }

  /** The client closed: a last line without a newline still counts. */
  finish(): void {
    this.splitter.flush();
  }
}
