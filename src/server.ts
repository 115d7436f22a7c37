/**
 * `serve(options)`: listens (TCP, TLS or a unix socket), admits or refuses
 * connections, times out idle ones, and shuts down gracefully (the parts
 * are in server/). What the bytes mean is up to the mode (echo, oneway, twoway).
 */

import type { Cluster } from "./cluster/presence.ts";
import { SERVE_DEFAULTS } from "./defaults.ts";
import { echoMode } from "./modes/echo.ts";
import { type BoundMode, bindMode, type ModeContext, type ModeName, type ModeOutput } from "./modes/mode.ts";
import { onewayMode } from "./modes/oneway.ts";
import type { Rate } from "./net/bucket.ts";
import type { Cidr } from "./net/cidr.ts";
import { Lobby } from "./room/lobby.ts";
import { Connections } from "./server/connections.ts";
import { AcceptGate, clampWarning, type FdPlan, planFds } from "./server/fd-budget.ts";
import { openFds, readFdLimit } from "./server/fd-limit.ts";
import { IdleSweep, tickInterval } from "./server/idle.ts";
import { type ListenOptions, listen } from "./server/listen.ts";
import { shutdown } from "./server/shutdown.ts";
import { formatDuration } from "./text/units.ts";

export { SHUTDOWN_GRACE_MS, TICK_MS } from "./defaults.ts";

export interface ServeOptions extends ListenOptions {
  mode?: ModeName;
  maxClients?: number;
  maxLine?: number;
  maxQueue?: number;
  /** 0 = never. */
  idleTimeoutMs?: number;
  /** How long a TLS client has to finish its handshake (default TLS_HANDSHAKE_MS). */
  tlsHandshakeMs?: number;
  allow?: Cidr[];
  deny?: Cidr[];
  /** Connections one address may hold at once; 0 = no limit. */
  maxPerAddress?: number;
  /** The console participant's name (twoway). */
  name?: string;
  history?: number;
  /** Twoway: lines each newcomer is shown after the greeting (`--motd`), already safe to show. */
  motd?: readonly string[];
  /** Twoway: members may set the topic (`--open-topic`), not only the console. */
  openTopic?: boolean;
  /** Lines a client may send (twoway: say; oneway: print), kept by flow control; none: no limit. */
  rateLimit?: Rate;
  /** The conversation: lines received, room traffic, joins and leaves (see ModeOutput). */
  output?: ModeOutput;
  /**
   * The open-file limit and the descriptors open before listening, to plan --max-clients and
   * accepting by (default: this process's, where they can be known).
   */
  fds?: { limit: number; inUse: number };
  /** Status: refused connections and the like. */
  onStatus?: (text: string) => void;
  /** Warnings: --max-clients lowered to what the open-file limit allows (default: onStatus). */
  onWarning?: (text: string) => void;
  /** Called when the console asks the server to stop (`/quit`). */
  onStopRequest?: () => void;
  /** Twoway: one room over several servers (see Cluster.open); the console is named after the server unless `name` is given. */
  cluster?: Cluster;
}

export interface ServerHandle {
  readonly mode: ModeName;
  readonly address: string;
  readonly port: number;
  readonly unix: string | undefined;
  /** `HOST:PORT` or the unix socket path, as shown in `listening on …`. */
  readonly label: string;
  readonly clients: number;
  /** A line from the server's console (twoway; ignored by the other modes). */
  say(line: string): void;
  /**
   * Stops (true) or restarts (false) reading from every client, so that
   * clients are slowed by TCP flow control while the server's own output
   * (stdout) is backed up, instead of the server buffering without bound.
   */
  holdInput(held: boolean): void;
  /** Stops accepting, tells the room, flushes and closes every connection. Idempotent. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions = {}): Promise<ServerHandle> {
  const modeName = options.mode ?? SERVE_DEFAULTS.mode;
  const idleMs = options.idleTimeoutMs ?? SERVE_DEFAULTS.idleTimeoutMs;
  const status = options.onStatus ?? (() => {});
  const mode = createMode(modeName, modeContext(options), () => (options.onStopRequest ?? (() => void handle.close()))(), options.cluster);
  try {
    await mode.start();
  } catch (error) {
    // A room that could not join its cluster lets go of what it took.
    await mode.stopped().catch(() => {});
    throw error;
  }
  const idle = new IdleSweep(idleMs, (conn) => {
    status(`${conn.peer} timed out`);
    mode.expire(conn, formatDuration(idleMs));
  });
  const plan = await fdPlan(options, options.maxClients ?? SERVE_DEFAULTS.maxClients, options.onWarning ?? status);
  const rules = {
    allow: options.allow ?? [],
    deny: options.deny ?? [],
    maxClients: plan.maxClients,
    maxPerAddress: options.maxPerAddress ?? SERVE_DEFAULTS.maxPerAddress,
  };
  const tls = options.tls !== undefined;
  const connections = new Connections({ mode, rules, idle, status, tls, handshakeMs: options.tlsHandshakeMs });
  const listening = await listen(options, connections.handler);
  // Never out of descriptors: accepting stops short of the limit (see fd-budget.ts).
  const gate = new AcceptGate(plan, listening, status);
  if (Number.isFinite(plan.pauseAt)) connections.countSockets(gate);
  const ticker = setInterval(() => {
    const now = Date.now();
    mode.tick(now);
    idle.sweep(now);
    connections.tick();
  }, tickInterval(idleMs));

  let closing: Promise<void> | null = null;
  const handle: ServerHandle = {
    mode: modeName,
    address: listening.address,
    port: listening.port,
    unix: listening.unix,
    label: listening.label,
    get clients() {
      return connections.size;
    },
    say(line) {
      if (!closing) mode.say(line);
    },
    holdInput: (held) => connections.holdInput(held),
    close() {
      gate.stop();
      closing ??= shutdown({ listening, mode, connections, ticker });
      return closing;
    },
  };
  return handle;
}

/** --max-clients and accepting as the open-file limit allows; a lowered --max-clients is warned of. */
async function fdPlan(options: ServeOptions, requested: number, warn: (text: string) => void): Promise<FdPlan> {
  const limit = options.fds?.limit ?? (await readFdLimit())?.soft;
  const inUse = options.fds?.inUse ?? openFds();
  // Where the count of open files cannot be known, the limit is not planned by either.
  if (limit === undefined || inUse === null) return planFds(requested, Number.POSITIVE_INFINITY, 0);
  const plan = planFds(requested, limit, inUse);
  if (plan.clamped) warn(clampWarning(requested, plan, limit, inUse));
  return plan;
}

function modeContext(options: ServeOptions): ModeContext {
  return {
    output: options.output ?? { event: () => {} },
    maxLine: options.maxLine ?? SERVE_DEFAULTS.maxLine,
    maxQueue: options.maxQueue ?? SERVE_DEFAULTS.maxQueue,
    name: options.name ?? options.cluster?.nodeName ?? SERVE_DEFAULTS.name,
    history: options.history ?? SERVE_DEFAULTS.history,
    rateLimit: options.rateLimit,
    motd: options.motd,
    openTopic: options.openTopic,
  };
}

function createMode(name: ModeName, ctx: ModeContext, stop: () => void, cluster?: Cluster): BoundMode {
  if (name === "echo") return bindMode(echoMode(ctx));
  if (name === "oneway") return bindMode(onewayMode(ctx));
  return bindMode(new Lobby(ctx, stop, cluster));
}
