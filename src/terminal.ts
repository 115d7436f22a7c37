/**
 * The line editor used on a terminal (client, and the server's console in a
 * room): a prompt, history and editing from node:readline. A line that
 * arrives while the user types is printed above the prompt and the half-typed
 * input is redrawn intact.
 */
import { createInterface, type Interface } from "node:readline";

export interface TerminalHandlers {
  line: (line: string) => void;
  /** Ctrl+D on an empty line, or Ctrl+C. */
  close: () => void;
}

export class Terminal {
  private readonly rl: Interface;
  private closed = false;

  constructor(
    handlers: TerminalHandlers,
    private readonly prompt = "> ",
  ) {
    this.rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: 500 });
    this.rl.setPrompt(prompt);
    this.rl.on("line", handlers.line);
    this.rl.on("SIGINT", () => this.rl.close());
    this.rl.on("close", () => {
      this.closed = true;
      handlers.close();
    });
    this.rl.prompt();
  }

  /** Prints text (whole lines) above the prompt, keeping what the user typed. */
  print(text: string): void {
    if (this.closed) {
      process.stdout.write(text);
      return;
    }
    process.stdout.write(`\r\x1b[2K${text}`);
    this.rl.prompt(true);
  }

  /**
   * Replaces the line the user just entered (still on screen above the prompt)
   * with how it was sent, e.g. `12:00:01 alice: hi`.
   */
  replaceEntered(entered: string, text: string): void {
    this.eraseEntered(entered);
    this.print(text);
  }

  /** Removes the line the user just entered from the screen (it will be printed as sent). */
  eraseEntered(entered: string): void {
    const columns = process.stdout.columns || 80;
    const rows = Math.max(1, Math.ceil((this.prompt.length + entered.length) / columns));
    process.stdout.write(`\x1b[${rows}A\r\x1b[J`);
    this.rl.prompt(true);
  }

  close(): void {
    if (!this.closed) this.rl.close();
  }
}
