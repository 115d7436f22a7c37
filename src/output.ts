/**
 * Status and diagnostics: to stderr through one consola instance, and the
 * colours shared by every output. The conversation goes to stdout through
 * stdout.ts.
 *
 * Status lines are written to the descriptor directly: Bun's `process.stderr`
 * stream (like `process.stdout`) costs start-up time and about 3 MiB when
 * first made, so a server never makes it unless stderr cannot take a line
 * at once.
 */
import { writeSync } from "node:fs";
import { createConsola, type LogObject } from "consola/core";
import { isatty } from "./tty/isatty.ts";

const STDERR_FD = 2;

/** Colour for a stream, or a descriptor (a terminal), unless NO_COLOR or TERM=dumb says otherwise. */
export function colorEnabled(target: { isTTY?: boolean } | number): boolean {
  const env = process.env;
  const tty = typeof target === "number" ? isatty(target) : target.isTTY === true;
  return tty && !env.NO_COLOR && env.TERM !== "dumb";
}

const paint = (code: number) => (text: string) => `\x1b[${code}m${text}\x1b[39m`;
export const colors = {
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  blue: paint(34),
  magenta: paint(35),
  cyan: paint(36),
  gray: paint(90),
};

let verbose = false;

function describe(arg: unknown): string {
  if (arg instanceof Error) return verbose && arg.stack ? arg.stack : arg.message;
  return String(arg);
}

function report(entry: LogObject): void {
  const text = entry.args.map(describe).join(" ");
  const color = colorEnabled(STDERR_FD);
  let prefix = "";
  if (entry.type === "error" || entry.type === "fatal") prefix = color ? colors.red("error: ") : "error: ";
  else if (entry.type === "warn") prefix = color ? colors.yellow("warning: ") : "warning: ";
  writeStatus(`${prefix}${text}`);
}

/** Set while a line editor holds the terminal that stderr writes to: status lines print above its prompt. */
let aboveEditor: ((text: string) => void) | null = null;

/** Status lines through `print` (a line editor's: its prompt and draft stay whole) while stderr is its terminal; null: stderr again. */
export function printStatusThrough(print: ((text: string) => void) | null): void {
  aboveEditor = print && isatty(STDERR_FD) ? print : null;
}

/** Made only when stderr cannot take a line at once (a full non-blocking pipe); every later line goes through it, in order. */
let stderrStream: NodeJS.WriteStream | null = null;

function writeStatus(text: string): void {
  if (aboveEditor) {
    aboveEditor(`${text}\n`);
    return;
  }
  if (stderrStream) {
    stderrStream.write(`${text}\n`);
    return;
  }
  const bytes = Buffer.from(`${text}\n`);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(STDERR_FD, bytes, done, bytes.length - done);
  } catch (error) {
    // A closed stderr loses its status lines, as the stream would.
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    stderrStream = process.stderr;
    stderrStream.write(bytes.subarray(done));
  }
}

/** Levels: 1 = warnings and errors only (--quiet), 3 = status (default), 4 = debug (--verbose). */
export const logger = createConsola({ level: 3, reporters: [{ log: report }] });

/** consola's level of `info`: status lines. */
const INFO_LEVEL = 3;

/**
 * A status line at info level (silenced by --quiet), written directly:
 * consola serialises every call's arguments to spot repeats, which made
 * 10,000 `connected` lines cost more than the connections themselves.
 */
export function status(text: string): void {
  if (logger.level >= INFO_LEVEL) essential(text);
}

/** A status line printed even with --quiet: the listening address, which scripts need with --port 0. */
export function essential(text: string): void {
  writeStatus(text);
}

export function configureLogger(options: { quiet?: boolean; verbose?: boolean }): void {
  verbose = options.verbose === true;
  logger.level = options.quiet ? 1 : verbose ? 4 : 3;
}
