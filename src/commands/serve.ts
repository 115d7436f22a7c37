/** `chat serve`: turns arguments into `serve()` options and wires stdout, --log, signals and the console. */
import { defineCommand, type ParsedArgs } from "citty";
import { parseRedisUrl, type RedisAddress } from "../cluster/url.ts";
import { CONNECT_TIMEOUT_MS, MIN_MAX_LINE, MIN_MAX_QUEUE, SERVE_DEFAULTS, SHUTDOWN_GRACE_MS } from "../defaults.ts";
import { isDevNull, STDOUT_FD } from "../dev-null.ts";
import { UsageError } from "../errors.ts";
import { MODES, type ModeName } from "../modes/mode.ts";
import { type Cidr, parseCidr } from "../net/cidr.ts";
import { colorEnabled, configureLogger, essential, logger, printStatusThrough, status } from "../output.ts";
import { type Style, Transcript } from "../printer.ts";
import { nameProblem, roomProblem } from "../room/names.ts";
import { raiseFdLimit } from "../server/fd-limit.ts";
import { type ServeOptions, type ServerHandle, serve } from "../server.ts";
import type { ServerConsole } from "../server-console.ts";
import { ServerOutput } from "../server-output.ts";
import { formatSize } from "../text/units.ts";
import { tlsFingerprint } from "../tls.ts";
import {
  allValues,
  countArg,
  durationArg,
  fileArg,
  MOTD_MOST_LINES,
  motdArg,
  outputArgs,
  portArg,
  rateArg,
  sizeArg,
  transportArgs,
} from "./shared.ts";

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
  motd: {
    type: "string",
    valueHint: "text|@file",
    description: `Shown to each newcomer after the greeting: TEXT, or the lines of FILE (at most ${MOTD_MOST_LINES})`,
  },
  "open-topic": { type: "boolean", description: "Members may set the topic with /topic (by default only the console may)" },
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
  "rate-limit": {
    type: "string",
    default: "0",
    valueHint: "lines/time",
    description: "Lines a client may send: 5/1s is 5 at once, then one per 200ms; more wait, never dropped (twoway, oneway; 0 = no limit)",
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
  redis: {
    type: "string",
    valueHint: "url",
    description: "Share one room with every server on this Redis: redis://[[user]:password@]host[:port][/db] or rediss:// (twoway)",
  },
  room: {
    type: "string",
    valueHint: "name",
    description: "With --redis: the cluster room newcomers start in (default main); /join reaches the others",
  },
  node: {
    type: "string",
    valueHint: "name",
    description: "With --redis: this server's name in the cluster (default: the host name, made unique)",
  },
  timeout: {
    type: "string",
    default: `${CONNECT_TIMEOUT_MS / 1000}s`,
    valueHint: "time",
    description: "With --redis: how long connecting to Redis may take (0 = no limit)",
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
  "chat serve --motd @motd.txt --open-topic   # greet newcomers; anyone may /topic",
  "chat serve --redis redis://10.0.0.5:6379 --node web-1   # one room over several servers",
];

function cidrs(raw: readonly string[], flag: string): Cidr[] {
  return allValues(raw, flag).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new UsageError(`invalid --${flag}: ${text} (expected an address or CIDR block like 10.0.0.0/8)`);
    return cidr;
  });
}

/** `--timeout 0`: a day stands for no limit (the client needs a number). */
const NO_LIMIT_MS = 24 * 3600 * 1000;
const STDIN_FD = 0;

/** `--redis`, `--room`, `--node`: what a cluster room needs, checked (usage errors exit 2). */
export function clusterArgs(args: ParsedArgs<typeof serveArgs>, mode: string): ClusterArgs | undefined {
  if (!args.redis) {
    const stray = args.room !== undefined ? "--room" : args.node !== undefined ? "--node" : null;
    if (stray) throw new UsageError(`${stray} goes with --redis`);
    return undefined;
  }
  if (mode !== "twoway") throw new UsageError(`--redis is for a room (--mode twoway), not --mode ${mode}`);
  const room = args.room ?? "main";
  const roomIssue = roomProblem(room);
  if (roomIssue) throw new UsageError(`invalid --room: ${roomIssue}`);
  const node = args.node;
  if (node !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(node)) throw new UsageError("invalid --node: 1–40 letters, digits, '_' and '-'");
  return { redis: parseRedisUrl(args.redis), room, node, timeoutMs: durationArg(args.timeout, "--timeout") || NO_LIMIT_MS };
}

export interface ClusterArgs {
  redis: RedisAddress;
  room: string;
  node: string | undefined;
  timeoutMs: number;
}

export function serveOptions(args: ParsedArgs<typeof serveArgs>, raw: readonly string[]): ServeOptions & { mode: ModeName } {
  const mode = args.mode;
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`invalid --mode: ${mode} (expected ${MODES.join(", ")})`);
  const name = args.name;
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`invalid --name: ${problem}`);
  if (Boolean(args["tls-cert"]) !== Boolean(args["tls-key"])) throw new UsageError("--tls-cert and --tls-key go together");
  if (mode !== "twoway" && (args.motd !== undefined || args["open-topic"] === true)) {
    throw new UsageError(`${args.motd !== undefined ? "--motd" : "--open-topic"} is for a room (--mode twoway), not --mode ${mode}`);
  }
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
    motd: args.motd === undefined ? undefined : motdArg(args.motd),
    openTopic: args["open-topic"] === true,
    maxClients: countArg(args["max-clients"], "--max-clients", 1),
    maxPerAddress: countArg(args["max-per-address"], "--max-per-address"),
    maxLine: sizeArg(args["max-line"], "--max-line", MIN_MAX_LINE),
    maxQueue: sizeArg(args["max-queue"], "--max-queue", MIN_MAX_QUEUE),
    idleTimeoutMs: durationArg(args["idle-timeout"], "--idle-timeout"),
    rateLimit: rateArg(args["rate-limit"], "--rate-limit"),
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
    const clustered = clusterArgs(args, mode);
    // In a cluster the console is named after its server unless --name says otherwise.
    if (clustered && !given(rawArgs, "name", "n")) options.name = undefined;
    if (options.rateLimit && mode === "echo")
      logger.warn("--rate-limit does not apply to --mode echo (an echo answers bytes as they come)");
    const style: Style = args.json === true ? "json" : colorEnabled(STDOUT_FD) ? "tty" : "plain";
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
    // Loaded only for a cluster: a server on its own starts without it.
    const cluster = clustered
      ? await (await import("../cluster/presence.ts")).Cluster.open({
          ...clustered,
          history: options.history ?? SERVE_DEFAULTS.history,
          status,
        })
      : undefined;
    server = await serve({ ...options, cluster, output: out.output, onStatus: status, onWarning: warn, onStopRequest: stop });
    const running = server;
    out.stdout.onPressure = (full) => running.holdInput(full);
    // Before the listening line: whoever waits for it may signal at once.
    const interrupt = handleSignals(stop);
    const where = cluster && clustered ? `, room ${cluster.room} via redis ${clustered.redis.label}, node ${cluster.nodeName}` : "";
    essential(`listening on ${server.label} (mode ${mode}${where})`);
    if (options.tls) logger.info(`tls certificate sha256 ${await tlsFingerprint(options.tls.cert)}`);
    // Input from /dev/null has no line for a console, ever (its end never stops the server): no console, no stdin stream.
    const console = mode === "twoway" && !isDevNull(STDIN_FD) ? await openConsole(server, args.json !== true, out, interrupt) : null;
    await stopped.promise;
    printStatusThrough(null);
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
  if (console.print) {
    out.printThrough(console.print);
    printStatusThrough(console.print);
  }
  return console;
}

/** Whether a flag was given on the command line (citty fills in defaults). */
function given(raw: readonly string[], long: string, short: string): boolean {
  return raw.some((a) => a === `--${long}` || a.startsWith(`--${long}=`) || a === `-${short}`);
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
