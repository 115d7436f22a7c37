/** `chat serve`: turns arguments into `serve()` options and wires stdout, --log and the console. */
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import type { ChatEvent } from "../events.ts";
import { type LineWriterFactory, MODES, type ModeName } from "../modes/mode.ts";
import { type Cidr, parseCidr } from "../net/cidr.ts";
import { colorEnabled, configureLogger, essential, logger, StdoutWriter, status } from "../output.ts";
import { Printer, type Style, Transcript } from "../printer.ts";
import { nameProblem } from "../room/names.ts";
import { DEFAULTS, type ServeOptions, type ServerHandle, SHUTDOWN_GRACE_MS, serve } from "../server.ts";
import type { ConsoleHandle } from "../server-console.ts";
import { linePrefix } from "../text/plain-lines.ts";
import { tlsFingerprint } from "../tls.ts";
import { allValues, countArg, durationArg, fileArg, outputArgs, portArg, sizeArg, transportArgs } from "./shared.ts";

export const serveArgs = {
  port: { type: "string", alias: "p", default: String(DEFAULTS.port), description: "Port to listen on (0 = any free port)" },
  host: { type: "string", description: "Address to listen on (default: every interface, IPv4 and IPv6)" },
  mode: {
    type: "string",
    alias: "m",
    default: DEFAULTS.mode,
    valueHint: MODES.join("|"),
    description: "twoway = a chat room, echo = send every byte back, oneway = print what clients send",
  },
  name: { type: "string", alias: "n", default: DEFAULTS.name, description: "The console's name in the room" },
  history: { type: "string", default: String(DEFAULTS.history), valueHint: "n", description: "Lines a newcomer is shown (0 = none)" },
  "max-clients": {
    type: "string",
    default: String(DEFAULTS.maxClients),
    valueHint: "n",
    description: "Connections served at once; more are told and closed",
  },
  "max-line": { type: "string", default: String(DEFAULTS.maxLine), valueHint: "bytes", description: "Longest line; longer ones are cut" },
  "max-queue": {
    type: "string",
    default: "1m",
    valueHint: "bytes",
    description: "Bytes waiting for a client that does not read before it is dropped",
  },
  "idle-timeout": {
    type: "string",
    default: "0",
    valueHint: "time",
    description: "Disconnect a client silent this long (90, 500ms, 30s, 5m, 1h; 0 = never)",
  },
  allow: { type: "string", valueHint: "cidr", description: "Accept only these addresses (repeatable), e.g. 192.168.1.0/24" },
  deny: { type: "string", valueHint: "cidr", description: "Refuse these addresses (repeatable)" },
  log: { type: "string", valueHint: "file", description: "Append a timestamped transcript to this file" },
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

type ServeArgs = {
  [K in keyof typeof serveArgs]: (typeof serveArgs)[K] extends { type: "boolean" } ? boolean | undefined : string | undefined;
};

function cidrs(raw: readonly string[], flag: string): Cidr[] {
  return allValues(raw, flag).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new UsageError(`invalid --${flag}: ${text} (expected an address or CIDR block like 10.0.0.0/8)`);
    return cidr;
  });
}

export function serveOptions(args: ServeArgs, raw: readonly string[]): ServeOptions {
  const mode = args.mode ?? DEFAULTS.mode;
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`invalid --mode: ${mode} (expected ${MODES.join(", ")})`);
  const name = args.name ?? DEFAULTS.name;
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`invalid --name: ${problem}`);
  if (Boolean(args["tls-cert"]) !== Boolean(args["tls-key"])) throw new UsageError("--tls-cert and --tls-key go together");
  if (args.unix && (args.host || raw.some((a) => a === "--port" || a.startsWith("--port=") || a === "-p"))) {
    throw new UsageError("--unix replaces --host and --port");
  }
  return {
    mode: mode as ModeName,
    host: args.host || undefined,
    port: portArg(args.port ?? String(DEFAULTS.port)),
    unix: args.unix || undefined,
    name,
    history: countArg(args.history ?? "20", "--history"),
    maxClients: countArg(args["max-clients"] ?? "10000", "--max-clients", 1),
    maxLine: sizeArg(args["max-line"] ?? "4096", "--max-line", 16),
    maxQueue: sizeArg(args["max-queue"] ?? "1m", "--max-queue", 64 * 1024),
    idleTimeoutMs: durationArg(args["idle-timeout"] ?? "0", "--idle-timeout"),
    allow: cidrs(raw, "allow"),
    deny: cidrs(raw, "deny"),
    tls:
      args["tls-cert"] && args["tls-key"]
        ? { cert: fileArg(args["tls-cert"], "--tls-cert"), key: fileArg(args["tls-key"], "--tls-key") }
        : undefined,
  };
}

/** Conversation events to stdout (text or JSON) and --log; in echo/oneway, connects are status lines. */
function eventSink(mode: ModeName, style: Style, out: StdoutWriter, print: (text: string) => void, log?: Transcript) {
  const json = style === "json";
  const printer = new Printer(print, { style, serverView: true });
  return (event: ChatEvent) => {
    log?.event(event);
    if (mode !== "twoway" && !json && (event.type === "join" || event.type === "leave")) {
      status(`${event.peer} ${event.type === "join" ? "connected" : "disconnected"}`);
      return;
    }
    if (!out.isClosed) printer.event(event);
  };
}

/**
 * For plain output with no transcript: echo and oneway print each received line
 * as `PEER: TEXT` straight from its bytes, the same text the `message` event
 * would print, without making a string per line (a busy echo server prints
 * as fast as clients send). A room does the same with the plain lines it
 * relays (`relayed`, below).
 */
function plainLineWriter(out: StdoutWriter): LineWriterFactory {
  return (from) => {
    const prefix = linePrefix(`${from}: `);
    return {
      line: (bytes, start, end) => out.line(prefix.bytes, bytes, start, end),
      plainLines: (bytes, start, end, maxLine) => out.plainLines(prefix, bytes, start, end, maxLine),
    };
  };
}

export default defineCommand({
  meta: { name: "serve", description: "Run a chat room, an echo server or a print server" },
  args: serveArgs,
  async run({ args, rawArgs }) {
    if (args._.length > 0) throw new UsageError(`unexpected argument ${args._[0]} (chat serve takes options only)`);
    configureLogger({ quiet: args.quiet, verbose: args.verbose });
    const options = serveOptions(args as ServeArgs, rawArgs);
    const mode = options.mode ?? DEFAULTS.mode;
    const out = new StdoutWriter();
    let print = (text: string) => out.text(text);
    const log = args.log ? openLog(args.log) : undefined;
    let server: ServerHandle | null = null;
    let console: ConsoleHandle | null = null;
    const stopped = Promise.withResolvers<void>();
    const stop = () => {
      server?.close().then(() => stopped.resolve());
    };
    const style: Style = args.json === true ? "json" : colorEnabled(process.stdout) ? "tty" : "plain";
    const sink = eventSink(mode, style, out, (text) => print(text), log);
    const plain = style === "plain" && !log;
    const output = plain ? { event: sink, lines: plainLineWriter(out), relayed: out.raw.bind(out) } : { event: sink };
    server = await serve({ ...options, output, onStatus: status, onStopRequest: stop });
    const running = server;
    out.onPressure = (full) => running.holdInput(full);
    // Before the listening line: whoever waits for it may signal at once.
    handleSignals(stop);
    essential(`listening on ${server.label} (mode ${mode})`);
    if (options.tls) logger.info(`tls certificate sha256 ${await tlsFingerprint(options.tls.cert)}`);
    if (mode === "twoway") {
      // Loaded once listening: the line editor (node:readline) is not needed to start serving.
      const { attachConsole } = await import("../server-console.ts");
      const attached = attachConsole(server, args.json !== true);
      console = attached;
      if (attached) print = (text) => attached.print(text);
    }
    await stopped.promise;
    console?.close();
    log?.flush();
    // What stdout has not taken yet is lost at exit; a stuck reader must not keep the server up.
    await out.drained(SHUTDOWN_GRACE_MS);
  },
});

function openLog(path: string): Transcript {
  try {
    return new Transcript(path);
  } catch (error) {
    throw new UsageError(`--log: cannot open ${path}: ${(error as Error).message}`);
  }
}

/** First SIGINT/SIGTERM: graceful shutdown. A second SIGINT: exit 130 at once. */
function handleSignals(stop: () => void): void {
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
}
