/**
 * The server's console in a room: lines typed on stdin are said by the console
 * participant. On a terminal it gets the line editor (room lines print above
 * the prompt); from a pipe it reads lines; end of input never stops the server.
 */
import { createInterface, type Interface } from "node:readline";
import type { ServerHandle } from "./server.ts";
import { LineEditor } from "./tty/editor.ts";
import { STAMP_WIDTH } from "./view.ts";

export interface ServerConsole {
  /** Prints conversation text above the prompt; null off a terminal (the text goes to stdout as it is). */
  readonly print: ((text: string) => void) | null;
  /** Stops reading stdin, so that it holds nothing open, and gives the terminal back (raw mode off). */
  close(): void;
}

/** `leave`: Ctrl+C or Ctrl+D on an empty line of the terminal's console. */
export function attachConsole(server: ServerHandle, interactive: boolean, leave: () => void): ServerConsole {
  if (interactive && process.stdin.isTTY && process.stdout.isTTY) {
    // Leaving gives the terminal back first: the shutdown's lines print plainly, and a second Ctrl+C is a real SIGINT.
    const stop = () => {
      editor.close();
      leave();
    };
    const editor = new LineEditor({ line: (line) => server.say(line), leave: stop }, { indent: STAMP_WIDTH });
    return { print: (text) => editor.print(text), close: () => editor.close() };
  }
  let lines: Interface | null = null;
  try {
    lines = createInterface({ input: process.stdin, terminal: false });
    lines.on("line", (line) => server.say(line));
    lines.on("error", () => {});
  } catch {
    // No usable stdin (closed or not a stream): the room runs without a console.
  }
  // Closing the reader pauses stdin: nothing is read from it any more.
  return { print: null, close: () => lines?.close() };
}
