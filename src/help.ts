/**
 * `--help`, laid out for a width (80 when piped, the terminal's when not).
 * Replaces citty's renderUsage, which pads every row to the longest one and
 * never wraps (lines of 148 columns, trailing spaces, mid-word breaks at 80).
 */
import type { ArgDef, ArgsDef, CommandDef, CommandMeta, Resolvable } from "citty";
import { colors } from "./output.ts";
import { columns, example, hanging, type Row, words, wrap, wrapWords } from "./text/wrap.ts";

/** Help written to a pipe or a file is laid out for this width. */
export const PIPED_WIDTH = 80;
const MIN_WIDTH = 60;
const MAX_WIDTH = 100;
/** Option names longer than this put their description on the next line rather than widen the column. */
const MAX_LEFT = 24;
const LAYOUT = { indent: 2, maxLeft: MAX_LEFT, gap: 2 };

export interface HelpOptions {
  width: number;
  color: boolean;
  examples?: readonly string[];
  /** Paragraphs after everything else. */
  notes?: readonly string[];
}

interface Paint {
  heading: (text: string) => string;
  name: (text: string) => string;
  dim: (text: string) => string;
}

const PLAIN: Paint = { heading: (text) => text, name: (text) => text, dim: (text) => text };
const COLOR: Paint = { heading: (text) => `\x1b[1;4m${text}\x1b[22;24m`, name: colors.cyan, dim: colors.gray };

/** The width to lay help out for: a terminal's own (within bounds), else 80. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number }): number {
  if (!stream.isTTY || !stream.columns) return PIPED_WIDTH;
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, stream.columns));
}

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function aliases(def: ArgDef): string[] {
  const alias = "alias" in def ? def.alias : undefined;
  return alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
}

function valueHint(name: string, def: ArgDef): string {
  if (def.type === "enum" && def.options?.length) return `=<${def.options.join("|")}>`;
  if (def.type === "string") return `=<${def.valueHint ?? name}>`;
  return def.type !== "positional" && def.valueHint ? `=<${def.valueHint}>` : "";
}

/** The description's words, then `(required)` and `(default: X)`, the one spelling of a default. */
function described(def: ArgDef, required: boolean, text = def.description ?? ""): string[] {
  const description = text.replace(/\(Default:/g, "(default:");
  const hints = required ? ["(required)"] : [];
  if (def.default !== undefined && !description.includes("(default:")) hints.push(`(default: ${def.default})`);
  return [...words(description), ...hints];
}

function optionRows(args: ArgsDef): Row[] {
  const options = Object.entries(args).filter(([, def]) => def.type !== "positional");
  const anyAlias = options.some(([, def]) => aliases(def).length > 0);
  const rows: Row[] = [];
  for (const [name, def] of options) {
    const short = aliases(def).map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`));
    const flags = [...short, `--${name}`].join(", ");
    const left = `${short.length === 0 && anyAlias ? "    " : ""}${flags}${valueHint(name, def)}`;
    const required = def.required === true && def.default === undefined;
    rows.push({ left, right: described(def, required) });
    // As citty does: a boolean that is on by default, or says what its negation means, lists --no-NAME.
    if (def.type === "boolean" && (def.default === true || def.negativeDescription) && !/^no[-A-Z]/.test(name)) {
      const negative = [...short.map((flag) => flag.replace(/^--?/, "--no-")), `--no-${name}`].join(", ");
      rows.push({ left: `${anyAlias ? "    " : ""}${negative}`, right: words(def.negativeDescription ?? "") });
    }
  }
  return rows;
}

function positionalRows(args: ArgsDef): { rows: Row[]; usage: string[] } {
  const rows: Row[] = [];
  const usage: string[] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "positional") continue;
    const required = def.required !== false && def.default === undefined;
    rows.push({ left: name.toUpperCase(), right: described(def, required) });
    usage.push(required ? `<${name.toUpperCase()}>` : `[${name.toUpperCase()}]`);
  }
  return { rows, usage };
}

async function commandRows(command: CommandDef<ArgsDef>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, sub] of Object.entries((await resolve(command.subCommands)) ?? {})) {
    const meta = await resolve<CommandMeta>((await resolve<CommandDef<ArgsDef>>(sub))?.meta);
    if (!meta?.hidden) rows.push({ left: name, right: words(meta?.description ?? "") });
  }
  return rows;
}

function section(title: string, lines: readonly string[], paint: Paint): string[] {
  return lines.length === 0 ? [] : [paint.heading(title), "", ...lines, ""];
}

/** The help text of `command` (a subcommand of `parent`, if given), ending in a newline. */
export async function renderHelp(
  command: CommandDef<ArgsDef>,
  parent: CommandDef<ArgsDef> | undefined,
  options: HelpOptions,
): Promise<string> {
  const { width } = options;
  const paint = options.color ? COLOR : PLAIN;
  const meta = (await resolve<CommandMeta>(command.meta)) ?? {};
  const parentMeta = (await resolve<CommandMeta>(parent?.meta)) ?? {};
  const name = [parentMeta.name, meta.name].filter(Boolean).join(" ");
  const version = meta.version ?? parentMeta.version;
  const args = (await resolve<ArgsDef>(command.args)) ?? {};
  const positionals = positionalRows(args);
  const flags = optionRows(args);
  const commands = await commandRows(command);
  const usage = [name, flags.length > 0 ? "[OPTIONS]" : "", ...positionals.usage, commands.map((row) => row.left).join("|")];
  const lines = [
    ...wrapWords([...words(meta.description ?? ""), `(${name}${version ? ` v${version}` : ""})`], width).map(paint.dim),
    "",
    ...hanging("USAGE ", usage.filter(Boolean).join(" "), width).map((line, i) =>
      i === 0 ? line.replace("USAGE", paint.heading("USAGE")) : line,
    ),
    "",
    ...section("ARGUMENTS", columns(positionals.rows, width, LAYOUT, paint.name), paint),
    ...section("OPTIONS", columns(flags, width, LAYOUT, paint.name), paint),
    ...section("COMMANDS", columns(commands, width, LAYOUT, paint.name), paint),
    ...(commands.length > 0 ? [...wrap(`Use ${name} <command> --help for more information about a command.`, width), ""] : []),
    ...section(
      "EXAMPLES",
      (options.examples ?? []).flatMap((line) => example(line, width)),
      paint,
    ),
    ...(options.notes ?? []).flatMap((note) => [...wrap(note, width), ""]),
  ];
  while (lines.at(-1) === "") lines.pop();
  return `${lines.join("\n")}\n`;
}
