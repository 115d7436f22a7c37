/** `chat connect`: turns arguments into `connect()` options and runs a session on the connection. */
import { defineCommand, type ParsedArgs } from "citty";
import { type ConnectOptions, connect, targetLabel } from "../client.ts";
import { CONNECT_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_PORT } from "../defaults.ts";
import { UsageError } from "../errors.ts";
import { parseTarget } from "../net/address.ts";
import { configureLogger, logger } from "../output.ts";
import { nameProblem } from "../room/names.ts";
import { Session } from "../session.ts";
import { countArg, durationArg, fileArg, outputArgs, transportArgs } from "./shared.ts";

export const connectArgs = {
  host: {
    type: "positional",
    required: false,
    description: `Server address, or HOST:PORT ([::1]:${DEFAULT_PORT} for IPv6) (default: ${DEFAULT_HOST})`,
  },
  port: { type: "positional", required: false, description: `Server port (default: ${DEFAULT_PORT})` },
  name: { type: "string", alias: "n", description: "Your name in a room (default: $USER); nothing is sent to echo or oneway servers" },
  timeout: {
    type: "string",
    default: `${CONNECT_TIMEOUT_MS / 1000}s`,
    description: "Give up connecting after this long (500ms, 10s, 1m; 0 for no limit)",
  },
  retry: { type: "string", default: "0", description: "Try again this many times, with backoff, before giving up" },
  tls: { type: "boolean", description: "Connect with TLS, verifying the server against the system CAs" },
  ca: {
    type: "string",
    valueHint: "file",
    description: "Verify the server against this CA or self-signed certificate (PEM); implies --tls",
  },
  insecure: { type: "boolean", description: "TLS without verifying the server's certificate (warns); implies --tls" },
  reconnect: {
    type: "boolean",
    description:
      "Reconnect when the link is lost, keeping the draft and showing what was missed (default: on a terminal; --no-reconnect turns it off)",
  },
  bell: {
    type: "boolean",
    description: "Ring the bell for a line that names you or a private message (default: on; --no-bell turns it off)",
  },
  timestamps: { type: "boolean", description: "Show when each line was said, on a terminal (default: on; --no-timestamps turns it off)" },
  ...transportArgs,
  ...outputArgs,
} as const;

export const connectExamples = [
  `chat connect                       # the room on ${DEFAULT_HOST}:${DEFAULT_PORT}`,
  "chat connect chat.lan 5000 --name ada",
  "chat connect '[::1]:7000'",
  "printf 'hi\\n' | chat connect --name bot host:5000   # post a line from a script",
  "chat connect --tls --ca cert.pem host 5000",
];

export function connectOptions(args: ParsedArgs<typeof connectArgs>, positionals: readonly string[]): ConnectOptions & { name?: string } {
  const name = args.name ?? process.env.USER ?? "";
  if (args.name && nameProblem(args.name)) throw new UsageError(`invalid --name: ${nameProblem(args.name)}`);
  const tls =
    args.tls || args.ca !== undefined || args.insecure
      ? { ca: args.ca ? fileArg(args.ca, "--ca") : undefined, insecure: args.insecure === true }
      : undefined;
  const base = {
    name: nameProblem(name) ? undefined : name,
    tls,
    timeoutMs: durationArg(args.timeout, "--timeout"),
    retry: countArg(args.retry, "--retry"),
  };
  if (args.unix) {
    if (positionals.length > 0) throw new UsageError("--unix replaces HOST and PORT");
    return { ...base, unix: args.unix };
  }
  const target = parseTarget(positionals);
  if (typeof target === "string") throw new UsageError(target);
  if (target.port === 0) throw new UsageError("invalid port: 0 (a server cannot be reached on port 0)");
  return { ...base, host: target.host, port: target.port };
}

export default defineCommand({
  meta: { name: "connect", description: "Connect to a chat, echo or print server (or any TCP server)" },
  args: connectArgs,
  async run({ args }) {
    configureLogger({ quiet: args.quiet, verbose: args.verbose });
    const options = connectOptions(args, args._);
    if (options.tls?.insecure) logger.warn("--insecure: the server's certificate is not checked");
    const started = performance.now();
    const client = await connect({
      ...options,
      onRetry: (error, delayMs, left) => logger.warn(`${error.message} (retrying in ${delayMs}ms, ${left} left)`),
    });
    const connectMs = performance.now() - started;
    logger.info(`connected to ${targetLabel(options)}`);
    if (client.fingerprint) logger.info(`server certificate sha256 ${client.fingerprint}`);
    const session = new Session(client, {
      name: options.name,
      json: args.json,
      connectMs,
      reconnect: args.reconnect,
      bell: args.bell,
      timestamps: args.timestamps,
      reopen: () => connect({ ...options, retry: 0 }),
    });
    process.exitCode = await session.run();
  },
});
