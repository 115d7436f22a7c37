#!/usr/bin/env bun
/**
 * The `chat` executable: routes `serve` and `connect` (commands defined with
 * citty's types, parsed by commands/shared.ts: citty's own parser cost 2–3 ms of
 * start-up), and maps failures to exit codes (1 runtime, 2 usage).
 */
import type { ArgsDef, CommandDef, ParsedArgs } from "citty";
import { version } from "../package.json";
import { parseFlags } from "./commands/shared.ts";
import { ChatError, UsageError } from "./errors.ts";
import { helpWidth, renderHelp } from "./help.ts";
import { colorEnabled, logger } from "./output.ts";
import { closest } from "./text/suggest.ts";

interface Command {
  def: CommandDef<ArgsDef>;
  examples: string[];
}

/** Each command's module is loaded when it runs: `chat serve` never loads the client's line editor. */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const { default: def, serveExamples } = await import("./commands/serve.ts");
    return { def: def as unknown as CommandDef<ArgsDef>, examples: serveExamples };
  },
  connect: async () => {
    const { default: def, connectExamples } = await import("./commands/connect.ts");
    return { def: def as unknown as CommandDef<ArgsDef>, examples: connectExamples };
  },
};

const main: CommandDef<ArgsDef> = {
  meta: { name: "chat", version, description: "Terminal TCP chat: a room, an echo server and a print server, and their client" },
  subCommands: Object.fromEntries(Object.entries(commands).map(([name, load]) => [name, async () => (await load()).def])),
};

function help(command?: CommandDef<ArgsDef>, examples: string[] = []): Promise<string> {
  return renderHelp(command ?? main, command ? main : undefined, {
    width: helpWidth(process.stdout),
    color: colorEnabled(process.stdout),
    examples,
    notes: command ? [] : ["Exit codes: 0 done, 1 runtime failure, 2 usage error, 130 second Ctrl+C."],
  });
}

function unknownCommand(name: string): UsageError {
  // An option first: the command was left out (`chat --port 5000`).
  if (name.startsWith("-")) return new UsageError(`a command comes first: chat serve ${name} … or chat connect ${name} …\n${usageHint()}`);
  const guess = closest(name, Object.keys(commands));
  return new UsageError(`unknown command ${name}${guess ? ` (did you mean ${guess}?)` : ""}\n${usageHint()}`);
}

function usageHint(name?: string): string {
  return name ? `usage: chat ${name} [options] (see chat ${name} --help)` : "usage: chat serve|connect [options] (see chat --help)";
}

async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  // `chat help serve` is `chat serve --help`.
  if (name === "help" && rest.length > 0) return run([...rest.slice(0, 1), "--help"]);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(await help());
    if (name === undefined) process.exitCode = 2;
    return;
  }
  if (name === "--version" || name === "-v" || name === "-V" || name === "version") {
    process.stdout.write(`${version}\n`);
    return;
  }
  const load = commands[name];
  if (!load) throw unknownCommand(name);
  const command = await load();
  const end = rest.indexOf("--");
  if ((end < 0 ? rest : rest.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")) {
    process.stdout.write(await help(command.def, command.examples));
    return;
  }
  try {
    const args = parseFlags(rest, (command.def.args ?? {}) as ArgsDef) as ParsedArgs<ArgsDef>;
    await command.def.run?.({ rawArgs: rest, args, cmd: command.def });
  } catch (error) {
    if (error instanceof UsageError) error.message = `${error.message}\n${usageHint(name)}`;
    throw error;
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof ChatError) {
    logger.error(error.message);
    process.exitCode = error.exitCode;
  } else {
    logger.error(error);
    process.exitCode = 1;
  }
}
