/** `chat serve`: turns arguments into `serve()` options and wires stdout, --log, signals and the console. */
import { defineCommand, type ParsedArgs } from "citty";
import { MIN_MAX_LINE, MIN_MAX_QUEUE, SERVE_DEFAULTS, SHUTDOWN_GRACE_MS } from "../defaults.ts";
import { UsageError } from "../errors.ts";
import { MODES, type ModeName } from "../modes/mode.ts";
import { type Cidr, parseCidr } from "../net/cidr.ts";
import { colorEnabled, configureLogger, essential, logger, status } from "../output.ts";
import { type Style, Transcript } from "../printer.ts";
import { nameProblem } from "../room/names.ts";
import { raiseFdLimit } from "../server/fd-limit.ts";
import { type ServeOptions, type ServerHandle, serve } from "../server.ts";
import type { ServerConsole } from "../server-console.ts";
import { ServerOutput } from "../server-output.ts";
import { formatSize } from "../text/units.ts";
import { tlsFingerprint } from "../tls.ts";
import { allValues, countArg, durationArg, fileArg, outputArgs, portArg, sizeArg, transportArgs } from "./shared.ts";

export const serveArgs = {
  port: { type: "string", alias: "p", default: String(SERVE_DEFAULTS.port), description: "Port to listen on (0 = any free port)" },
  host: { type: "string", description: "Address to listen on (default: every interface, IPv4 and IPv6)" },
  mode: {
    type: "string",
    alias: "m",
    default: SERVE_DEFAULTS.mode,
    valueHint: MODES.join("|"),
    description: "twoway = a chat room, echo = send every byte back, oneway = print what clients send",
  },
  name: { type: "string", alias: "n", default: SERVE_DEFAULTS.name, description: "The console's name in the room" },
  history: { type: "string", default: String(SERVE_DEFAULTS.history), valueHint: "n", description: "Lines a newcomer is shown (0 = none)" },
  "max-clients": {
    type: "string",
    default: String(SERVE_DEFAULTS.maxClients),
    valueHint: "n",
    description: "Connections served at once (lowered to fit the open-file limit); more are told and closed",
  },
  "max-per-address": {
    type: "string",
    default: String(SERVE_DEFAULTS.maxPerAddress),
    valueHint: "n",
    description: "Connections one address may hold at once; more are told and closed (0 = no limit)",
  },
  "max-line": {
    type: "string",
    default: String(SERVE_DEFAULTS.maxLine),
    valueHint: "bytes",
    description: "Longest line; longer ones are cut",
  },
  "max-queue": {
    type: "string",
    default: formatSize(SERVE_DEFAULTS.maxQueue),
    valueHint: "bytes",
    description: "Bytes waiting for a client that does not read before it is dropped",
  },
  "idle-timeout": {
    type: "string",
    // A bare number is seconds.
    default: String(SERVE_DEFAULTS.idleTimeoutMs / 1000),
    valueHint: "time",
    description: "Disconnect a client with no complete line this long (90, 500ms, 30s, 5m, 1h; 0 = never)",
  },
  allow: { type: "string", valueHint: "cidr", description: "Accept only these addresses (repeatable), e.g. 192.168.1.0/24" },
  deny: { type: "string", valueHint: "cidr", description: "Refuse these addresses (repeatable)" },
  log: { type: "string", valueHint: "file", description: "Append a timestamped transcript to this file (mode 0600)" },
  "log-max": {
    type: "string",
    default: formatSize(SERVE_DEFAULTS.logMax),
    valueHint: "bytes",
    description: "Rotate --log to FILE.1 past this size (0 = never)",
  },
  "tls-cert": { type: "string", valueHint: "file", description: "Serve TLS with this certificate (PEM); needs --tls-key" },
  "tls-key": { type: "string", valueHint: "file", description: "Private key (PEM) for --tls-cert" },
  ...transportArgs,
  ...outputArgs,
} as const;

export const serveExamples = [
  "chat serve                         # a chat room on port 5000",
  "chat serve --mode echo --port 7    # an echo server",
  "chat serve --mode oneway > log.txt # print what clients send",
  "chat serve --tls-cert cert.pem --tls-key key.pem --allow 10.0.0.0/8",
];

function cidrs(raw: readonly string[], flag: string): Cidr[] {
  return allValues(raw, flag).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new UsageError(`invalid --${flag}: ${text} (expected an address or CIDR block like 10.0.0.0/8)`);
    return cidr;
  });
}

export function serveOptions(args: ParsedArgs<typeof serveArgs>, raw: readonly string[]): ServeOptions & { mode: ModeName } {
  const mode = args.mode;
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`invalid --mode: ${mode} (expected ${MODES.join(", ")})`);
  const name = args.name;
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`invalid --name: ${problem}`);
  if (Boolean(args["tls-cert"]) !== Boolean(args["tls-key"])) throw new UsageError("--tls-cert and --tls-key go together");
  if (args.unix && (args.host || raw.some((a) => a === "--port" || a.startsWith("--port=") || a === "-p"))) {
    throw new UsageError("--unix replaces --host and --port");
  }
  return {
    mode: mode as ModeName,
    host: args.host || undefined,
    port: portArg(args.port),
    unix: args.unix || undefined,
    name,
    history: countArg(args.history, "--history"),
    maxClients: countArg(args["max-clients"], "--max-clients", 1),
    maxPerAddress: countArg(args["max-per-address"], "--max-per-address"),
    maxLine: sizeArg(args["max-line"], "--max-line", MIN_MAX_LINE),
    maxQueue: sizeArg(args["max-queue"], "--max-queue", MIN_MAX_QUEUE),
    idleTimeoutMs: durationArg(args["idle-timeout"], "--idle-timeout"),
    allow: cidrs(raw, "allow"),
    deny: cidrs(raw, "deny"),
    tls:
      args["tls-cert"] && args["tls-key"]
        ? { cert: fileArg(args["tls-cert"], "--tls-cert"), key: fileArg(args["tls-key"], "--tls-key") }
        : undefined,
  };
}

export default defineCommand({
  meta: { name: "serve", description: "Run a chat room, an echo server or a print server" },
  args: serveArgs,
  async run({ args, rawArgs }) {
    if (args._.length > 0) throw new UsageError(`unexpected argument ${args._[0]} (chat serve takes options only)`);
    configureLogger({ quiet: args.quiet, verbose: args.verbose });
    const options = serveOptions(args, rawArgs);
    const mode = options.mode;
    const style: Style = args.json === true ? "json" : colorEnabled(process.stdout) ? "tty" : "plain";
    const logMax = sizeArg(args["log-max"], "--log-max", 0);
    const out = new ServerOutput(mode, style, args.log ? openLog(args.log, logMax) : undefined);
    let server: ServerHandle | null = null;
    const stopped = Promise.withResolvers<void>();
    const stop = () => {
      server?.close().then(() => stopped.resolve());
    };
    // As many clients as the hard limit allows (--max-clients is then clamped to the limit in force).
    await raiseFdLimit();
    const warn = (text: string) => logger.warn(text);
    server = await serve({ ...options, output: out.output, onStatus: status, onWarning: warn, onStopRequest: stop });
    const running = server;
    out.stdout.onPressure = (full) => running.holdInput(full);
    // Before the listening line: whoever waits for it may signal at once.
    const interrupt = handleSignals(stop);
    essential(`listening on ${server.label} (mode ${mode})`);
    if (options.tls) logger.info(`tls certificate sha256 ${await tlsFingerprint(options.tls.cert)}`);
    const console = mode === "twoway" ? await openConsole(server, args.json !== true, out, interrupt) : null;
    await stopped.promise;
    console?.close();
    // What stdout has not taken within the grace is lost: a reader that takes nothing must not keep the
    // server up, and Bun would wait for it at exit, so this one exit stays.
    if (!(await out.finish(SHUTDOWN_GRACE_MS))) process.exit();
  },
});

/** The console in a room: typed lines are said, room lines print above its prompt, leaving is a Ctrl+C. */
async function openConsole(server: ServerHandle, interactive: boolean, out: ServerOutput, interrupt: () => void): Promise<ServerConsole> {
  // Loaded once listening: the line editor (node:readline) is not needed to start serving.
  const { attachConsole } = await import("../server-console.ts");
  const console = attachConsole(server, interactive, interrupt);
  if (console.print) out.printThrough(console.print);
  return console;
}

function openLog(path: string, maxBytes: number): Transcript {
  try {
    return new Transcript(path, maxBytes);
  } catch (error) {
    throw new UsageError(`--log: cannot open ${path}: ${(error as Error).message}`);
  }
}

/**
 * First SIGINT/SIGTERM: graceful shutdown. A second SIGINT: exit 130 at once.
 * Returns what a SIGINT does, for the console's Ctrl+C.
 */
function handleSignals(stop: () => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === "SIGINT") process.exit(130);
      return;
    }
    stopping = true;
    logger.info("shutting down");
    stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => onSignal("SIGINT");
}
