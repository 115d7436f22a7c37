/**
 * The cluster case of `bun run bench` (`--only cluster`): one room spread
 * over several servers that share a fresh redis-server, under the fan-out
 * load (receivers round-robin over the servers, the sender on the first).
 * Three setups, each with its own Redis: chat on 3 servers, the bare Bun
 * relay over Redis pub/sub on 3 servers (room-bun-redis.ts: the floor cost of
 * sharing a room) and chat on one server with `--redis`. Every server and
 * Redis run on the server CPU; their CPU is counted together.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { memoryOf, type Server, type ServerSpec, startServer } from "./procs.ts";

export const REDIS_SERVER = Bun.which("redis-server");

export const CLUSTER_RECEIVERS = 300;
export const CLUSTER_PACED_LINES = 2000;
export const CLUSTER_RATE = 1000;
export const CLUSTER_BURST_LINES = 20_000;
/**
 * The first measured line waits until no other line has reached a receiver
 * for this long: every receiver's `/nick` is relayed to all the others by the
 * bare relay (90,000 deliveries) and announced as a join to all by chat (at
 * the latest 400 ms after connecting); measured with the lines, that traffic
 * made the relay's paced p99 swing from 20 to 200 ms between runs.
 */
const SETTLE_MS = 500;

/** A setup: its peer name in the figures, and how many servers. */
export interface ClusterSetup {
  peer: string;
  kind: "chat" | "relay";
  servers: number;
}

export const CLUSTER_SETUPS: ClusterSetup[] = [
  { peer: "chat-3", kind: "chat", servers: 3 },
  { peer: "relay-3", kind: "relay", servers: 3 },
  { peer: "chat-1", kind: "chat", servers: 1 },
];

/** A running setup: its servers and its Redis. */
export interface Cluster {
  /** Every server's port, the first one the sender's. */
  readonly ports: number[];
  /** The servers' PIDs and Redis's: whose CPU is the setup's. */
  readonly pids: number[];
  /** Peak RSS, MiB: the largest of the servers, and Redis. */
  memory(): { server: number; redis: number };
  stop(): Promise<void>;
}

/** A port nothing listens on now (the kernel's pick for a socket just closed). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** A redis-server with no persistence on a free loopback port (it announces nothing: started once it listens). */
function redisSpec(redis: string): ServerSpec {
  const port = freePort();
  const cmd = [redis, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"];
  return { cmd, announce: "none", port };
}

/**
 * Starts a setup: a fresh Redis, then its servers one after another (each
 * chat server registers with the room before it listens). `chat` makes a chat
 * server's spec from its extra arguments.
 */
export async function startCluster(setup: ClusterSetup, chat: (args: string[]) => ServerSpec, peers: string): Promise<Cluster> {
  if (!REDIS_SERVER) throw new Error("redis-server not found (apt-get install redis-server)");
  const started: Server[] = [];
  const stop = async () => {
    for (const server of started.reverse()) await server.stop();
  };
  try {
    const redis = await startServer(redisSpec(REDIS_SERVER));
    started.push(redis);
    const url = `redis://127.0.0.1:${redis.port}`;
    const servers: Server[] = [];
    for (let n = 1; n <= setup.servers; n++) {
      const spec =
        setup.kind === "chat"
          ? chat(["--redis", url, "--node", `n${n}`, "--history", "0", "--quiet"])
          : {
              cmd: [process.execPath, join(peers, "room-bun-redis.ts"), "0", url],
              announce: "stdout" as const,
              pattern: /listening (\d+)/,
            };
      const server = await startServer(spec);
      started.push(server);
      servers.push(server);
    }
    return {
      ports: servers.map((s) => s.port),
      pids: [...servers.map((s) => s.pid), redis.pid],
      memory: () => ({ server: Math.max(...servers.map((s) => memoryOf(s.pid).peak)), redis: memoryOf(redis.pid).peak }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** On-CPU time of every thread of these processes, ns (schedstat). */
function cpuNs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return total;
}

const QUIET_WINDOW_MS = 100;
/** Busy below this share of a core over a window counts as quiet. */
const QUIET_SHARE = 0.05;
const QUIET_MAX_MS = 5000;

/**
 * Waits (at most QUIET_MAX_MS) until these processes (a setup's servers and
 * Redis, or one server) are quiet: a room is still announcing the last run's
 * receivers leaving for a moment after the load generator is gone, and that
 * work must not fall into the next run.
 */
export async function waitQuiet(pids: number[]): Promise<void> {
  const deadline = Date.now() + QUIET_MAX_MS;
  let before = cpuNs(pids);
  while (Date.now() < deadline) {
    await Bun.sleep(QUIET_WINDOW_MS);
    const now = cpuNs(pids);
    if (now - before < QUIET_SHARE * QUIET_WINDOW_MS * 1e6) return;
    before = now;
  }
}

/** The load generator's arguments for a fan-out run against a setup. */
export function clusterLoadArgs(cluster: Cluster, lines: number, rate: number, hello: string): string[] {
  return [
    "fanout",
    "--ports",
    cluster.ports.join(","),
    "--server-pid",
    cluster.pids.join(","),
    "--receivers",
    String(CLUSTER_RECEIVERS),
    "--lines",
    String(lines),
    "--rate",
    String(rate),
    "--hello",
    hello,
    "--settle",
    String(SETTLE_MS),
  ];
}
