/** Options shared by the commands, and the checks citty does not do (unknown flags, numbers, files). */
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

/** Long names, aliases and value-taking flags of a command, for checking raw arguments. */
function flagTable(args: ArgsDef): Map<string, boolean> {
  const table = new Map<string, boolean>([
    ["help", false],
    ["h", false],
  ]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const takesValue = def.type === "string" || def.type === "enum";
    table.set(name, takesValue);
    if (!takesValue) table.set(`no-${name}`, false);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) table.set(alias, takesValue);
  }
  return table;
}

/** Rejects unknown options and options missing their value (citty accepts both silently). */
export function checkFlags(raw: readonly string[], args: ArgsDef): void {
  const table = flagTable(args);
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] ?? "";
    if (arg === "--") return;
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) continue;
    const [flag = "", value] = arg.split(/=(.*)/s, 2);
    const takesValue = table.get(flag.replace(/^--?/, ""));
    if (takesValue === undefined) throw new UsageError(`unknown option ${flag}`);
    if (takesValue && value === undefined) {
      if (i + 1 >= raw.length) throw new UsageError(`option ${flag} needs a value`);
      i++;
    }
  }
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
