/** Options shared by the commands, their parser, and the checks on their values (numbers, files). */
import { existsSync, readFileSync } from "node:fs";
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { parsePort } from "../net/address.ts";
import type { Rate } from "../net/bucket.ts";
import { sanitize } from "../text/sanitize.ts";
import { parseDuration, parseRate, parseSize } from "../text/units.ts";

export const outputArgs = {
  json: { type: "boolean", description: "Write one JSON object per line on stdout (for scripts and bots)" },
  quiet: { type: "boolean", alias: "q", description: "No status lines on stderr (errors still print)" },
  verbose: { type: "boolean", description: "More detail on stderr, with stack traces for errors" },
} as const satisfies ArgsDef;

export const transportArgs = {
  unix: { type: "string", valueHint: "path", description: "Use a unix domain socket instead of host and port" },
} as const satisfies ArgsDef;

/** How a command-line flag is read: the option it sets, whether it takes a value, whether it is `--no-NAME`. */
interface Flag {
  name: string;
  takesValue: boolean;
  negated: boolean;
}

/** Long names, aliases and `--no-` forms of a command's options. */
function flagTable(args: ArgsDef): Map<string, Flag> {
  const help: Flag = { name: "help", takesValue: false, negated: false };
  const table = new Map<string, Flag>([
    ["help", help],
    ["h", help],
  ]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const takesValue = def.type === "string" || def.type === "enum";
    const flag = { name, takesValue, negated: false };
    table.set(name, flag);
    if (!takesValue) table.set(`no-${name}`, { ...flag, negated: true });
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) table.set(alias, flag);
  }
  return table;
}

/** A command's parsed arguments: each option by its long name (defaults filled in), positionals in `_` and by name. */
export type ParsedFlags = Record<string, string | boolean | string[] | undefined> & { _: string[] };

/**
 * Parses a command's arguments: `--name VALUE`, `--name=VALUE`, `-n VALUE`,
 * `--flag`, `--no-flag`, `--flag=false`; `--` ends the options; the last of
 * a repeated option counts. Unknown options and options missing their value
 * are usage errors (a plain parser accepts both silently).
 */
export function parseFlags(raw: readonly string[], args: ArgsDef): ParsedFlags {
  const table = flagTable(args);
  const parsed: ParsedFlags = { _: [] };
  for (const [name, def] of Object.entries(args)) if (def.type !== "positional" && def.default !== undefined) parsed[name] = def.default;
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] ?? "";
    if (arg === "--") {
      parsed._.push(...raw.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      parsed._.push(arg);
      continue;
    }
    const at = arg.indexOf("=");
    const given = at < 0 ? arg : arg.slice(0, at);
    const inline = at < 0 ? undefined : arg.slice(at + 1);
    const flag = table.get(given.replace(/^--?/, ""));
    if (!flag) throw new UsageError(`unknown option ${given}`);
    if (!flag.takesValue) parsed[flag.name] = !flag.negated && inline !== "false";
    else if (inline !== undefined) parsed[flag.name] = inline;
    else if (i + 1 < raw.length) parsed[flag.name] = raw[++i];
    else throw new UsageError(`option ${given} needs a value`);
  }
  const positionals = Object.entries(args).filter(([, def]) => def.type === "positional");
  positionals.forEach(([name, def], i) => {
    parsed[name] = parsed._[i] ?? (def.default === undefined ? undefined : String(def.default));
  });
  return parsed;
}

/** Every value given for a repeatable option (`--allow A --allow B`). */
export function allValues(raw: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] ?? "";
    if (arg === "--") break;
    if (arg === `--${name}`) values.push(raw[++i] ?? "");
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

export function portArg(text: string, flag = "--port"): number {
  const port = parsePort(text.trim());
  if (port === null) throw new UsageError(`invalid ${flag}: ${text} (expected a number 0-65535)`);
  return port;
}

export function durationArg(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`invalid ${flag}: ${text} (expected a duration like 90, 500ms, 30s, 5m, 1h)`);
  return ms;
}

/** LINES/DURATION, or undefined for `0` (no limit). */
export function rateArg(text: string, flag: string): Rate | undefined {
  if (text.trim() === "0") return undefined;
  const rate = parseRate(text);
  if (!rate) throw new UsageError(`invalid ${flag}: ${text} (expected lines per time like 5/1s, 100/1m; 0 = no limit)`);
  return rate;
}

export function countArg(text: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`invalid ${flag}: ${text} (expected a whole number >= ${min})`);
  }
  return Number(text);
}

export function sizeArg(text: string, flag: string, min = 1): number {
  const bytes = parseSize(text);
  if (bytes === null || bytes < min) throw new UsageError(`invalid ${flag}: ${text} (expected bytes >= ${min}, like 4096, 64k, 1m)`);
  return bytes;
}

/** Reads a file named on the command line; a missing one is a usage error. */
export function fileArg(path: string, flag: string): string {
  if (!existsSync(path)) throw new UsageError(`${flag}: no such file: ${path}`);
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** `--motd` lines at most: a newcomer gets them all, every time it connects. */
export const MOTD_MOST_LINES = 50;
const MOTD_MOST_BYTES = 16 * 1024;

/** `--motd TEXT` or `--motd @FILE`: the lines a newcomer is shown, made safe to show (sanitised). */
export function motdArg(value: string): string[] {
  const text = value.startsWith("@") ? fileArg(value.slice(1), "--motd") : value;
  if (Buffer.byteLength(text) > MOTD_MOST_BYTES) throw new UsageError(`--motd: at most ${MOTD_MOST_BYTES / 1024} KiB`);
  // Blank lines at the end are the file's end, not lines to show.
  const lines = text.replace(/(\r?\n)+$/, "").split(/\r?\n/);
  if (lines.length > MOTD_MOST_LINES) throw new UsageError(`--motd: ${lines.length} lines; at most ${MOTD_MOST_LINES}`);
  return text.trim() === "" ? [] : lines.map(sanitize);
}
