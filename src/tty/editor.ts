/**
 * The line editor on a terminal (the client, and the server's console in a
 * room). It knows how many rows its draft takes (prompt plus text, measured
 * in columns, see width.ts) and where the cursor is among them, so a line
 * printed while the user types erases every row of the draft, is printed
 * (wrapped with a hanging indent), and the draft is drawn again below it with
 * the cursor where it was. Nothing printed is ever overwritten.
 *
 * Keys: the usual Emacs-style editing, history on up/down, Tab completion
 * through a callback, Ctrl+C clears a draft (and leaves on an empty one),
 * Ctrl+D leaves on an empty draft.
 */
import { emitKeypressEvents } from "node:readline";
import { type Editing, KEYS, type Key } from "./keys.ts";
import { type Cell, cursorCell, graphemes, graphemeWidth, layout, wrapLine } from "./width.ts";

/** What Tab does to the draft: its new text and cursor. */
export interface Completion {
  draft: string;
  cursor: number;
}

export interface EditorHandlers {
  /** Enter: the draft as typed (the editor clears it). */
  line: (line: string) => void;
  /** Ctrl+D on an empty draft, or Ctrl+C on an empty draft. */
  leave: () => void;
  /** Tab: what to complete the draft to; `cycle` counts repeated presses. */
  complete?: (draft: string, cursor: number, cycle: number) => Completion | null;
}

export interface EditorOptions {
  prompt?: string;
  /** Columns a wrapped printed line's later rows are indented by. */
  indent?: number;
}

const HISTORY_SIZE = 500;
/** Control characters are never part of a draft (a paste may carry them). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const WORD_BEFORE = /\S+\s*$/;
const WORD_AFTER = /^\s*\S+/;

export class LineEditor implements Editing {
  private text = "";
  /** Offset in `text` (always on a grapheme boundary). */
  private cursor = 0;
  /** Row of the terminal's cursor, counted from the draft's first row. */
  private cursorRow = 0;
  private readonly history: string[] = [];
  /** Position while browsing history (history.length = the draft being typed). */
  private browsing = 0;
  private stash = "";
  private tabs = 0;
  private closed = false;
  private readonly prompt: string;
  indent: number;
  private readonly onKey = (str: string | undefined, key: Key | undefined) => this.key(str, key ?? {});
  private readonly onResize = () => this.resized();

  constructor(
    private readonly handlers: EditorHandlers,
    options: EditorOptions = {},
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {
    this.prompt = options.prompt ?? "> ";
    this.indent = options.indent ?? 2;
    emitKeypressEvents(input);
    input.setRawMode?.(true);
    input.on("keypress", this.onKey);
    input.resume();
    output.on("resize", this.onResize);
    this.draw("");
  }

  get draft(): string {
    return this.text;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Prints whole lines (`text` ends with a newline) above the draft, which stays as it was. */
  print(text: string, bell = false): void {
    if (this.closed) {
      this.output.write(text);
      return;
    }
    const columns = this.columns();
    let out = this.erase();
    for (const line of text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n")) {
      out += `${wrapLine(line, columns, this.indent).join("\r\n")}\r\n`;
    }
    if (bell) out += "\x07";
    this.draw(out);
  }

  /** Replaces the draft (a reconnect keeps it; a test may set it). */
  setDraft(text: string, cursor = text.length): void {
    this.text = text.replace(CONTROL, "");
    this.cursor = Math.min(cursor, this.text.length);
    this.redraw();
  }

  /** Erases the draft and gives the terminal back as it was. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.write(this.erase());
    this.input.off("keypress", this.onKey);
    this.output.off("resize", this.onResize);
    this.input.setRawMode?.(false);
    this.input.pause();
  }

  private columns(): number {
    return Math.max(2, this.output.columns || 80);
  }

  /** Moves to the draft's first row and clears from there down. */
  private erase(): string {
    const up = this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : "";
    this.cursorRow = 0;
    return `${up}\r\x1b[J`;
  }

  private redraw(): void {
    if (!this.closed) this.draw(this.erase());
  }

  /** Writes `before`, then the draft from the current row's start, and puts the cursor in place. */
  private draw(before: string): void {
    const columns = this.columns();
    const { at, end } = this.place(columns);
    let out = `${before}${this.prompt}${this.text}`;
    let endRow = end.row;
    if (end.col >= columns) {
      // The row is exactly full and the terminal has not wrapped yet: make it.
      out += "\r\n";
      endRow++;
    }
    if (endRow > at.row) out += `\x1b[${endRow - at.row}A`;
    out += at.col > 0 ? `\r\x1b[${at.col}C` : "\r";
    this.cursorRow = at.row;
    this.output.write(out);
  }

  /** Where the cursor and the end of the draft are, in rows and columns from the prompt's start. */
  private place(columns: number): { at: Cell; end: Cell } {
    const clusters = graphemes(this.prompt + this.text);
    const cursorClusters = graphemes(this.prompt).length + graphemes(this.text.slice(0, this.cursor)).length;
    const { starts, end } = layout(clusters.map(graphemeWidth), columns);
    return { at: cursorCell(starts[cursorClusters] ?? end, columns), end };
  }

  /**
   * The terminal has re-flowed what it shows to its new width (tmux, VTE,
   * iTerm2, kitty and Windows Terminal do): the draft's rows are where the
   * new width puts them, so that is where the cursor is now.
   */
  private resized(): void {
    if (this.closed) return;
    this.cursorRow = this.place(this.columns()).at.row;
    this.redraw();
  }

  private key(str: string | undefined, key: Key): void {
    if (this.closed) return;
    if (key.name !== "tab") this.tabs = 0;
    const name = key.ctrl ? `C-${key.name}` : key.meta ? `M-${key.name}` : (key.name ?? "");
    const edit = KEYS[name];
    if (edit) {
      edit(this);
      return;
    }
    if (key.ctrl || (key.meta && key.name)) return;
    const typed = (str ?? "").replace(CONTROL, "");
    if (typed) this.insert(typed);
  }

  insert(typed: string): void {
    this.text = this.text.slice(0, this.cursor) + typed + this.text.slice(this.cursor);
    this.cursor += typed.length;
    this.redraw();
  }

  submit(): void {
    const line = this.text;
    this.text = "";
    this.cursor = 0;
    if (line.trim() !== "" && this.history.at(-1) !== line) {
      this.history.push(line);
      if (this.history.length > HISTORY_SIZE) this.history.shift();
    }
    this.browsing = this.history.length;
    this.redraw();
    this.handlers.line(line);
  }

  interrupt(): void {
    if (this.text === "") this.handlers.leave();
    else this.setDraft("");
  }

  endOfInput(): void {
    if (this.text === "") this.handlers.leave();
    else this.deleteForward();
  }

  left(): void {
    this.moveTo(this.boundaryBefore(this.cursor));
  }

  right(): void {
    this.moveTo(this.boundaryAfter(this.cursor));
  }

  moveTo(offset: number): void {
    this.cursor = Math.max(0, Math.min(this.text.length, offset));
    this.redraw();
  }

  wordLeft(): void {
    const match = WORD_BEFORE.exec(this.text.slice(0, this.cursor));
    this.moveTo(match ? match.index : 0);
  }

  wordRight(): void {
    const match = WORD_AFTER.exec(this.text.slice(this.cursor));
    this.moveTo(this.cursor + (match ? match[0].length : this.text.length));
  }

  deleteBack(): void {
    this.cut(this.boundaryBefore(this.cursor), this.cursor);
  }

  deleteForward(): void {
    this.cut(this.cursor, this.boundaryAfter(this.cursor));
  }

  deleteWordBack(): void {
    const match = WORD_BEFORE.exec(this.text.slice(0, this.cursor));
    this.cut(match ? match.index : 0, this.cursor);
  }

  killToStart(): void {
    this.cut(0, this.cursor);
  }

  killToEnd(): void {
    this.cut(this.cursor, this.text.length);
  }

  cut(from: number, to: number): void {
    if (from >= to) return;
    this.text = this.text.slice(0, from) + this.text.slice(to);
    this.cursor = from;
    this.redraw();
  }

  historyStep(step: number): void {
    const next = this.browsing + step;
    if (next < 0 || next > this.history.length) return;
    if (this.browsing === this.history.length) this.stash = this.text;
    this.browsing = next;
    this.setDraft(next === this.history.length ? this.stash : (this.history[next] ?? ""));
  }

  complete(): void {
    const done = this.handlers.complete?.(this.text, this.cursor, this.tabs++);
    if (done) this.setDraft(done.draft, done.cursor);
  }

  clearScreen(): void {
    this.output.write("\x1b[2J\x1b[H");
    this.cursorRow = 0;
    this.draw("");
  }

  private boundaryBefore(offset: number): number {
    return offset - (graphemes(this.text.slice(0, offset)).at(-1)?.length ?? 0);
  }

  private boundaryAfter(offset: number): number {
    if (offset >= this.text.length) return this.text.length;
    return offset + (graphemes(this.text.slice(offset, offset + 64))[0]?.length ?? 1);
  }
}
