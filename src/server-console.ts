/**
 * The server's console in a room: lines typed on stdin are said by the console
 * participant. On a terminal it gets the line editor (room lines print above
 * the prompt); from a pipe it reads lines; end of input never stops the server.
 */
import { createInterface } from "node:readline";
import type { ServerHandle } from "./server.ts";
import { LineEditor } from "./tty/editor.ts";
import { STAMP_WIDTH } from "./view.ts";

export interface ConsoleHandle {
  print(text: string): void;
  /** Gives the terminal back (the line editor puts it in raw mode). */
  close(): void;
}

export function attachConsole(server: ServerHandle, interactive: boolean): ConsoleHandle | null {
  if (interactive && process.stdin.isTTY && process.stdout.isTTY) {
    return new LineEditor(
      {
        line: (line) => server.say(line),
        leave: () => process.kill(process.pid, "SIGINT"),
      },
      { indent: STAMP_WIDTH },
    );
  }
  try {
    const lines = createInterface({ input: process.stdin, terminal: false });
    lines.on("line", (line) => server.say(line));
    lines.on("error", () => {});
  } catch {
    // No usable stdin (closed or not a stream): the room runs without a console.
  }
  return null;
}
