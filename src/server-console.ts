/**
 * The server's console in a room: lines typed on stdin are said by the console
 * participant. On a terminal it gets the line editor (room lines print above
 * the prompt); from a pipe it reads lines; end of input never stops the server.
 */
import { createInterface } from "node:readline";
import type { ServerHandle } from "./server.ts";
import { Terminal } from "./terminal.ts";

export interface ConsoleHandle {
  print(text: string): void;
}

export function attachConsole(server: ServerHandle, interactive: boolean): ConsoleHandle | null {
  if (interactive && process.stdin.isTTY && process.stdout.isTTY) {
    const terminal = new Terminal({
      line: (line) => {
        terminal.eraseEntered(line);
        server.say(line);
      },
      close: () => process.kill(process.pid, "SIGINT"),
    });
    return terminal;
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
