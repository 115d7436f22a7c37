/** A private tmux server for terminal tests: start programs in panes of a given size, type, read the screen. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./helpers.ts";

export class Tmux implements Disposable {
  private readonly socket = `chat-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** Exit statuses, one file per session (tmux 3.3 may not reap a dead pane's process for a while). */
  private readonly statuses = mkdtempSync(join(tmpdir(), "chat-tmux-"));

  constructor() {
    // A session that outlives the tests' own, so the tmux server does not exit between them.
    this.run("new-session", "-d", "-s", "keep", "sleep 600");
  }

  run(...args: string[]): string {
    const result = Bun.spawnSync({ cmd: ["tmux", "-L", this.socket, ...args], stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr.toString()}`);
    return result.stdout.toString();
  }

  /**
   * Starts `command` in a new session `name`, `columns` × `rows`; with `record`, every byte
   * it writes is recorded from the first (see `output`).
   */
  start(name: string, command: string, columns = 100, rows = 20, record = false): void {
    const shell = `${command}; echo $? > '${join(this.statuses, name)}'; exec sleep 600`;
    const session = ["new-session", "-d", "-s", name, "-x", String(columns), "-y", String(rows), shell];
    // One tmux command list: the pipe is in place before the server reads the pane's first output.
    if (record) this.run(...session, ";", "pipe-pane", "-O", "-t", name, `cat >> '${join(this.statuses, `${name}.out`)}'`);
    else this.run(...session);
  }

  /** The visible screen, or with `history` everything scrolled off too. */
  screen(name: string, history = false): string {
    return history ? this.run("capture-pane", "-p", "-t", name, "-S", "-") : this.run("capture-pane", "-p", "-t", name);
  }

  /** The screen's rows without trailing blank rows. */
  rows(name: string, history = false): string[] {
    return this.screen(name, history).trimEnd().split("\n");
  }

  lastRow(name: string): string {
    return this.rows(name).at(-1) ?? "";
  }

  cursor(name: string): { x: number; y: number } {
    const [x = "0", y = "0"] = this.run("display-message", "-p", "-t", name, "#{cursor_x},#{cursor_y}").trim().split(",");
    return { x: Number(x), y: Number(y) };
  }

  /** Types text literally. */
  type(name: string, text: string): void {
    this.run("send-keys", "-t", name, "-l", text);
  }

  /** Presses keys by name (Enter, C-c, Left, Tab, …). */
  keys(name: string, ...keys: string[]): void {
    this.run("send-keys", "-t", name, ...keys);
  }

  resize(name: string, columns: number, rows: number): void {
    this.run("resize-window", "-t", name, "-x", String(columns), "-y", String(rows));
  }

  /**
   * Whether the window rang the bell. Looking does not reset the flag (tmux 3.3): it stays 1
   * until the window is selected again in its session (see `clearBell`).
   */
  bell(name: string): boolean {
    return this.run("display-message", "-p", "-t", name, "#{window_bell_flag}").trim() === "1";
  }

  /** Resets the bell flag: tmux clears a window's flags when the session selects it again. */
  clearBell(name: string): void {
    this.run("new-window", "-d", "-t", `${name}:9`, "sleep 600");
    this.run("select-window", "-t", `${name}:9`);
    this.run("select-window", "-t", `${name}:0`);
    this.run("kill-window", "-t", `${name}:9`);
  }

  /** What a session started with `record` has written so far (escape codes and bells included). */
  output(name: string): string {
    try {
      return readFileSync(join(this.statuses, `${name}.out`), "utf8");
    } catch {
      return "";
    }
  }

  /** The exit status of the session's program once it exited. */
  async exited(name: string, timeoutMs = 5000): Promise<number> {
    const file = join(this.statuses, name);
    const read = () => {
      try {
        const text = readFileSync(file, "utf8");
        return text.endsWith("\n") ? Number(text) : undefined;
      } catch {
        return undefined;
      }
    };
    return until(read, `${name} to exit (screen: ${this.screen(name)})`, timeoutMs);
  }

  async waitScreen(name: string, check: (screen: string) => boolean, what: string, timeoutMs = 5000): Promise<string> {
    return until(
      () => {
        const screen = this.screen(name);
        return check(screen) ? screen : undefined;
      },
      `${what} (screen:\n${this.screen(name)})`,
      timeoutMs,
    );
  }

  kill(name: string): void {
    Bun.spawnSync({ cmd: ["tmux", "-L", this.socket, "kill-session", "-t", name], stderr: "ignore" });
  }

  [Symbol.dispose](): void {
    Bun.spawnSync({ cmd: ["tmux", "-L", this.socket, "kill-server"], stderr: "ignore" });
    rmSync(this.statuses, { recursive: true, force: true });
  }
}

/** Occurrences of `needle` in `haystack`. */
export function count(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}
