/**
 * `bun run bench`: the compiled server (dist/chat, built when missing) beside
 * a bare Bun echo server, a bare Bun room relay and a Node `net` echo server
 * (when node is installed), under load from a separate C process
 * (scripts/bench-load.c, compiled with cc or gcc) that checks every echoed
 * byte and counts every room line at every receiver. Prints one Markdown
 * table of absolute figures and ratios. 127.0.0.1 only; every run is
 * bounded; about three minutes with the defaults.
 *
 *   bun run bench [--runs 3] [--seconds 3] [--warmup 1] [--stdout FILE] [--only echo,room,room1000,cluster,idle,start,print] [--baseline FILE] [--drop-caches]
 *
 * The echo cases run chat with its stdout /dev/null (it then prints
 * nothing) and, for the streams, chat printing to a regular file beside
 * `socat -v` doing the same (socat is needed for that comparison: apt-get
 * install socat). Each echo peer gets `--warmup` unrecorded passes of every
 * echo case first: a long-running server's steady state is what users meet.
 *
 * `print` times chat's sanitiser on random binary lines in-process beside
 * the same algorithm in C (scripts/bench-print.c, checked to give the same
 * output), next to what 0.8× the bare Bun echo's stream would leave for it.
 *
 * The room of 100's warm-up pass ends with 20,000 more paced lines per
 * peer (ROOM_SETTLE_LINES): chat's compiler is still at work on that path
 * for about ten passes of 2,000 lines after a start.
 *
 * `room1000` runs the room's servers with 1,000 receivers (200 lines/s
 * paced, a burst of 5,000 lines), fresh and warmed by `--warmup` passes, the
 * room's welcome traffic settled before the first measured line.
 *
 * `cluster` (needs redis-server) spreads a room of 300 receivers round-robin
 * over 3 chat servers sharing one Redis, beside the bare Bun relay over Redis
 * pub/sub on 3 servers and chat on one server alone (scripts/bench-peers/
 * cluster.ts); each setup has its own fresh redis-server and one unrecorded
 * pass of each case first, ending with 20,000 more paced lines.
 *
 * `--stdout FILE`: the chat servers of every case print to FILE (a regular
 * file) instead of /dev/null.
 *
 * Cold figures: the first warm-up pass of the echo, room, room1000 and
 * cluster cases (fresh servers, JIT warm-up included) is printed as its own
 * small table after the warm one, one run per peer, beside the warm ratios.
 *
 * `start` times chat from spawn to its listening line, alternately with a
 * compiled Bun program that only listens (scripts/bench-peers/listen-bun.ts).
 */
import { existsSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SANITIZE_GROWTH, sanitizeInto } from "../src/text/sanitize.ts";
import {
  CLUSTER_BURST_LINES,
  CLUSTER_PACED_LINES,
  CLUSTER_RATE,
  CLUSTER_SETUPS,
  type Cluster,
  clusterLoadArgs,
  REDIS_SERVER,
  startCluster,
  waitQuiet,
} from "./bench-peers/cluster.ts";
import { renderColdTable } from "./bench-peers/cold.ts";
import { PrintingFiles, SOCAT, socatSpec } from "./bench-peers/printing.ts";
import {
  type Fields,
  machineTicks,
  median,
  parseFields,
  pinned,
  runLoad,
  type Server,
  type ServerSpec,
  startServer,
} from "./bench-peers/procs.ts";
import { renderBaseline, renderClusterTable, renderTable } from "./bench-peers/table.ts";
import { COMPILE_FLAGS } from "./targets.ts";

const ROOT = join(import.meta.dir, "..");
const CHAT = process.env.CHAT_BENCH_BINARY ?? join(ROOT, "dist/chat");
const LOAD_SOURCE = join(ROOT, "scripts/bench-load.c");
const LOAD = join(ROOT, "dist/bench-load");
const PRINT_SOURCE = join(ROOT, "scripts/bench-print.c");
const PRINT = join(ROOT, "dist/bench-print");
const PEERS = join(ROOT, "scripts/bench-peers");
const LISTEN_SOURCE = join(PEERS, "listen-bun.ts");
const LISTEN = join(ROOT, "dist/bench-listen");
const IDLE_CONNS = 10_000;
const ROOM_HELLO = "/nick u{i}";
/** A run is given this long beyond its own length before it is killed. */
const RUN_SLACK_MS = 60_000;

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    stdout: { type: "string" },
    only: { type: "string", default: "echo,room,room1000,cluster,idle,start,print" },
    /**
     * Empty the page cache once before measuring (root only): a binary just
     * built is wholly in the cache, and the kernel then maps its pages ahead
     * of use (fault-around), up to 5 MiB more resident than the same binary
     * read from disk as it runs. Peers and chat then start alike.
     */
    "drop-caches": { type: "boolean", default: false },
    /** Another chat binary (an earlier build) run beside this one, interleaved: a before/after table. */
    baseline: { type: "string" },
  },
});
const RUNS = Math.max(1, Math.min(9, Number(opts.runs) || 3));
const SECONDS = Math.max(1, Math.min(30, Number(opts.seconds) || 3));
const WARMUP = Math.max(0, Math.min(3, Number(opts.warmup) || 0));
const ONLY = new Set((opts.only ?? "").split(","));

const chatSpec = (args: string[], binary = CHAT, stdoutFile = opts.stdout): ServerSpec => ({
  cmd: [binary, "serve", "--host", "127.0.0.1", "--port", "0", ...args],
  announce: "stderr",
  pattern: /listening on 127\.0\.0\.1:(\d+)/,
  stdoutFile,
});
const peerSpec = (cmd: string[]): ServerSpec => ({ cmd, announce: "stdout", pattern: /listening (\d+)/ });
const node = Bun.which("node");

const printing = new PrintingFiles();
const echoPeers: Record<string, ServerSpec> = {
  chat: chatSpec(["--mode", "echo"]),
  bun: peerSpec([process.execPath, join(PEERS, "echo-bun.ts")]),
  ...(node ? { node: peerSpec([node, join(PEERS, "echo-node.mjs")]) } : {}),
  ...(opts.baseline ? { before: chatSpec(["--mode", "echo"], opts.baseline) } : {}),
  // The printing figures: the streams only.
  "chat-file": chatSpec(["--mode", "echo"], CHAT, printing.chat),
  ...(SOCAT ? { socat: socatSpec(SOCAT, printing.socat) } : {}),
};
const STREAMS_ONLY = new Set(["chat-file", "socat"]);
// --history 0: every run's receivers join a room that already relayed the runs before.
const roomPeers: Record<string, ServerSpec> = {
  "chat-room": chatSpec(["--history", "0"]),
  "bun-room": peerSpec([process.execPath, join(PEERS, "room-bun.ts")]),
  ...(opts.baseline ? { "before-room": chatSpec(["--history", "0"], opts.baseline) } : {}),
};

/** Figures per peer: metric → one value per run. */
const figures: Record<string, Record<string, number[]>> = {};
const problems: string[] = [];
/** Lines for the footer: what was skipped and why. */
const notes: string[] = [];
let otherLoadMax = 0;
/** False during warm-up passes: nothing is noted in `figures` (problems still are). */
let recording = true;
/** The first warm-up pass on fresh servers: its figures are noted in `cold`, one run per peer. */
let coldPass = false;
const cold: Record<string, Record<string, number>> = {};

function note(peer: string, metric: string, value: number): void {
  if (coldPass) {
    cold[peer] ??= {};
    cold[peer][metric] = value;
  }
  if (!recording) return;
  const byMetric = figures[peer] ?? {};
  figures[peer] = byMetric;
  const runs = byMetric[metric] ?? [];
  runs.push(value);
  byMetric[metric] = runs;
}

function num(fields: Fields, key: string): number {
  return Number(fields[key] ?? Number.NaN);
}

/**
 * Runs the load generator and says how much CPU the rest of the machine used
 * meanwhile, % of a core: over the measured window when the load generator
 * reports it (fanout), else over the whole run.
 */
async function measure(args: string[], seconds: number, onLine?: (line: string) => void): Promise<{ fields: Fields; other: number }> {
  const before = machineTicks();
  const fields = await runLoad([LOAD, ...args], seconds * 1000 + RUN_SLACK_MS, onLine);
  const after = machineTicks();
  const busyPct = (100 * cpus().length * (after.busy - before.busy)) / Math.max(1, after.total - before.total);
  const other =
    fields.other_cpu_pct !== undefined
      ? num(fields, "other_cpu_pct")
      : busyPct - num(fields, "server_cpu_pct") - num(fields, "client_cpu_pct");
  return { fields, other };
}

/**
 * Runs the load generator, noting what else the machine was doing meanwhile
 * (not for a server whose work is done by processes it forks, whose CPU the
 * load generator does not count as the server's: socat).
 */
async function load(args: string[], seconds: number, onLine?: (line: string) => void, forks = false): Promise<Fields> {
  const { fields, other } = await measure(args, seconds, onLine);
  if (Number.isFinite(other) && !forks) otherLoadMax = Math.max(otherLoadMax, other);
  return fields;
}

/** Notes each check under `prefix` + its name; any above 0 is a problem. */
function integrity(peer: string, fields: Fields, keys: string[], prefix = ""): void {
  for (const key of keys) {
    const value = num(fields, key);
    if (value > 0) problems.push(`${peer}: ${prefix}${key}=${value}`);
    note(peer, `${prefix}${key}`, value);
  }
}

/** A case: one load run against one peer's server (or setup of servers), recording its figures. */
type Case<S = Server> = (peer: string, server: S) => Promise<void>;

/**
 * Starts every peer's server (or setup), then runs each case against each
 * peer in turn, run after run: on a shared machine whose speed drifts, peers
 * measured side by side within a run compare fairly, where peers measured
 * one after another would not. `done` records what is read at the end (peak
 * memory).
 */
async function interleaved<S extends { stop(): Promise<void> }>(
  peers: Record<string, () => Promise<S>>,
  cases: Case<S>[],
  done: (peer: string, server: S) => void,
  warmup = 0,
): Promise<void> {
  const servers: [string, S][] = [];
  try {
    for (const [peer, start] of Object.entries(peers)) servers.push([peer, await start()]);
    recording = false;
    for (let pass = 0; pass < warmup; pass++) {
      coldPass = pass === 0;
      for (const each of cases) for (const [peer, server] of servers) await step(`${peer} warm-up`, () => each(peer, server));
    }
    coldPass = false;
    recording = true;
    for (let run = 0; run < RUNS; run++) {
      for (const each of cases) for (const [peer, server] of servers) await step(`${peer} run ${run + 1}`, () => each(peer, server));
    }
    for (const [peer, server] of servers) done(peer, server);
  } finally {
    for (const [, server] of servers) await server.stop();
  }
}

/** Each peer's server started from its spec. */
function fromSpecs(specs: Record<string, ServerSpec>): Record<string, () => Promise<Server>> {
  return Object.fromEntries(Object.entries(specs).map(([peer, spec]) => [peer, () => startServer(spec)]));
}

/** Notes each server's peak RSS under `metric`. */
const peakRss = (metric: string) => (peer: string, server: Server) => note(peer, metric, server.memory().peak);

const ECHO_CHECKS = ["mismatches", "errors", "connect_failures", "undrained_conns"];
const echoArgs = (server: Server) => ["--port", String(server.port), "--server-pid", String(server.pid), "--seconds", String(SECONDS)];

/** One echo stream run; a printing peer's output file is emptied after it. */
async function stream(peer: string, server: Server, extra: string[] = []): Promise<Fields> {
  const args = ["echo", ...echoArgs(server), "--conns", "10", "--size", "1024", "--stream", "--window", "16384", ...extra];
  try {
    return await load(args, SECONDS, undefined, peer === "socat");
  } finally {
    printing.clear();
  }
}

const echoCases: Case[] = [
  async (peer, server) => {
    if (STREAMS_ONLY.has(peer)) return;
    const pp = await load(["echo", ...echoArgs(server), "--conns", "100", "--size", "64"], SECONDS);
    note(peer, "pp.msgs", num(pp, "msgs_per_s"));
    note(peer, "pp.p99", num(pp, "p99_us"));
    note(peer, "pp.client", num(pp, "client_cpu_pct"));
    progress(`${peer}: ping-pong ${pp.msgs_per_s} msgs/s, load generator ${pp.client_cpu_pct} %`);
    integrity(peer, pp, ECHO_CHECKS);
  },
  async (peer, server) => {
    const st = await stream(peer, server);
    note(peer, "stream.mb", num(st, "mb_per_s"));
    note(peer, "stream.cpu", num(st, "server_cpu_pct"));
    note(peer, "stream.client", num(st, "client_cpu_pct"));
    integrity(peer, st, ECHO_CHECKS);
  },
  async (peer, server) => {
    const text = await stream(peer, server, ["--text"]);
    note(peer, "text.mb", num(text, "mb_per_s"));
    note(peer, "text.client", num(text, "client_cpu_pct"));
    integrity(peer, text, ECHO_CHECKS);
  },
];

/** Quiet this long (no line but the measured ones reaching anyone) before a room case's first measured line. */
const SETTLE_MS = 1500;
const ROOM_CHECKS = ["lost", "duplicated", "reordered", "corrupt", "unsynced", "connect_failures"];
const roomArgs = (server: Server) => [
  "--port",
  String(server.port),
  "--server-pid",
  String(server.pid),
  "--receivers",
  "100",
  "--hello",
  ROOM_HELLO,
  // The room's welcome traffic (chat sums up a crowd's joins a second later) is over before the first measured line.
  "--settle",
  String(SETTLE_MS),
];

/**
 * Paced lines each room peer is sent once more during its warm-up, unrecorded: chat's compiler is still
 * optimising the paced path for some 10 passes of 2,000 lines after a server starts (measured: 100, 46, 31,
 * 15, 15, 22, 4, 6, 3 and 1 functions compiled in passes 1 to 10, up to 104 ms of compiling a pass on the
 * server's one core), and a server's steady state, not its first seconds, is what its users meet.
 */
const ROOM_SETTLE_LINES = 20_000;

const roomCases: Case[] = [
  async (peer, server) => {
    const paced = await load(["fanout", ...roomArgs(server), "--lines", "2000", "--rate", "1000"], 2);
    note(peer, "paced.p50", num(paced, "p50_us"));
    note(peer, "paced.p99", num(paced, "p99_us"));
    note(peer, "paced.cpu", num(paced, "server_cpu_pct"));
    progress(`${peer}: paced p99 ${paced.p99_us} µs, server CPU ${paced.server_cpu_pct} %`);
    integrity(peer, paced, ROOM_CHECKS);
  },
  async (peer, server) => {
    const burst = await load(["fanout", ...roomArgs(server), "--lines", "50000", "--rate", "0"], 10);
    note(peer, "burst.s", num(burst, "seconds"));
    note(peer, "burst.cpu", num(burst, "server_cpu_pct"));
    note(peer, "burst.cpus", num(burst, "server_cpu_s") * 1000);
    note(peer, "burst.client", num(burst, "client_cpu_pct"));
    integrity(peer, burst, ROOM_CHECKS);
  },
  // Warm-up only: the paced path until the server's compiler is done with it (see ROOM_SETTLE_LINES).
  async (peer, server) => {
    if (recording) return;
    const settle = await load(
      ["fanout", ...roomArgs(server), "--lines", String(ROOM_SETTLE_LINES), "--rate", "1000"],
      ROOM_SETTLE_LINES / 1000,
    );
    integrity(peer, settle, ROOM_CHECKS);
  },
];

/**
 * The big room (`--only room1000`): the same two servers with 1,000
 * receivers, paced at BIG_RATE lines/s and a burst of BIG_BURST_LINES, on
 * fresh servers warmed by `--warmup` unrecorded passes. The load generator
 * connects in batches (a thousand connects at once overflow the listen
 * backlog), and the first measured line waits until no other line has
 * reached a receiver for SETTLE_MS: the bare relay passes every
 * receiver's `/nick` to all the others (a million deliveries) and chat
 * announces the first joins one by one and the rest as one `* N people
 * joined` line up to about 1.1 s after the first joins it counted (see
 * src/room/crowd.ts): that traffic is over before the lines are measured.
 * After each run the server is left to go quiet: the thousand receivers
 * leaving are announced, and that work is not the next run's.
 */
const BIG_RECEIVERS = 1000;
const BIG_RATE = 200;
const BIG_PACED_LINES = 1000;
const BIG_BURST_LINES = 5000;

const bigRoomArgs = (server: Server) => [
  "--port",
  String(server.port),
  "--server-pid",
  String(server.pid),
  "--receivers",
  String(BIG_RECEIVERS),
  "--hello",
  ROOM_HELLO,
  "--settle",
  String(SETTLE_MS),
];

/** A run's figures on stderr as it ends (recorded runs only): the spread over runs. */
function progress(text: string): void {
  if (recording) console.error(`bench:   ${text}`);
}

/** Lines other than the measured ones (joins, a crowd's summary) that reached receivers while the lines were measured. */
function unsettled(peer: string, fields: Fields): void {
  const other = num(fields, "other_lines");
  if (other > 0) problems.push(`${peer}: ${other} other lines reached the 1,000 receivers while lines were measured`);
}

const bigRoomCases: Case[] = [
  async (peer, server) => {
    const paced = await load(["fanout", ...bigRoomArgs(server), "--lines", String(BIG_PACED_LINES), "--rate", String(BIG_RATE)], 20);
    await waitQuiet([server.pid]);
    note(peer, "big.paced.p50", num(paced, "p50_us"));
    note(peer, "big.paced.p99", num(paced, "p99_us"));
    note(peer, "big.paced.cpu", num(paced, "server_cpu_pct"));
    note(peer, "big.paced.client", num(paced, "client_cpu_pct"));
    progress(`${peer}: paced p99 ${paced.p99_us} µs, server CPU ${paced.server_cpu_pct} %, load generator ${paced.client_cpu_pct} %`);
    integrity(peer, paced, ROOM_CHECKS, "big.");
    unsettled(peer, paced);
  },
  async (peer, server) => {
    const burst = await load(["fanout", ...bigRoomArgs(server), "--lines", String(BIG_BURST_LINES), "--rate", "0"], 30);
    await waitQuiet([server.pid]);
    note(peer, "big.burst.s", num(burst, "seconds"));
    note(peer, "big.burst.cpu", num(burst, "server_cpu_pct"));
    note(peer, "big.burst.cpus", num(burst, "server_cpu_s") * 1000);
    note(peer, "big.burst.client", num(burst, "client_cpu_pct"));
    progress(`${peer}: burst ${burst.seconds} s, server CPU ${burst.server_cpu_s} s, load generator ${burst.client_cpu_pct} %`);
    integrity(peer, burst, ROOM_CHECKS, "big.");
    unsettled(peer, burst);
  },
];

/**
 * A cluster run taken with more than this much other load on the machine (%
 * of a core, over its measured window) is run again, after a pause, up to
 * CLUSTER_ATTEMPTS times in all: a room over four processes on one core is
 * thrown far off by a neighbour's burst of work (a 0.4 s burst took 3 to
 * 11 s under 130 % of a core of other load).
 */
const CLUSTER_OTHER_MAX = 25;
const CLUSTER_ATTEMPTS = 5;
const CLUSTER_REPEAT_WAIT_MS = 3000;
let clusterRepeats = 0;
/** Runs kept although disturbed: the last attempt. */
let clusterDisturbed = 0;

/**
 * One cluster run, again while the machine was too busy. Each attempt ends
 * once the setup is quiet again: a room over several servers still announces
 * the last run's receivers leaving for a moment, not to be counted in the
 * next run.
 */
async function clusterRun(cluster: Cluster, lines: number, rate: number, seconds: number): Promise<Fields> {
  const args = clusterLoadArgs(cluster, lines, rate, ROOM_HELLO);
  for (let attempt = 1; ; attempt++) {
    const { fields, other } = await measure(args, seconds);
    await waitQuiet(cluster.pids);
    // Warm-up passes are not measured: never repeated.
    if (!recording) return fields;
    if (!(other > CLUSTER_OTHER_MAX) || attempt >= CLUSTER_ATTEMPTS) {
      if (Number.isFinite(other)) otherLoadMax = Math.max(otherLoadMax, other);
      if (other > CLUSTER_OTHER_MAX) clusterDisturbed++;
      return fields;
    }
    clusterRepeats++;
    console.error(`bench: ${other.toFixed(0)} % of a core of other load: again in ${CLUSTER_REPEAT_WAIT_MS / 1000} s`);
    await Bun.sleep(CLUSTER_REPEAT_WAIT_MS);
  }
}

/** The cluster cases: the room case's kind of load at 300 receivers spread over a setup's servers. */
const clusterCases: Case<Cluster>[] = [
  async (peer, cluster) => {
    const paced = await clusterRun(cluster, CLUSTER_PACED_LINES, CLUSTER_RATE, CLUSTER_PACED_LINES / CLUSTER_RATE);
    note(peer, "paced.p50", num(paced, "p50_us"));
    note(peer, "paced.p99", num(paced, "p99_us"));
    note(peer, "paced.cpums", num(paced, "server_cpu_s") * 1000);
    note(peer, "paced.client", num(paced, "client_cpu_pct"));
    integrity(peer, paced, ROOM_CHECKS);
  },
  async (peer, cluster) => {
    const burst = await clusterRun(cluster, CLUSTER_BURST_LINES, 0, 20);
    note(peer, "burst.s", num(burst, "seconds"));
    note(peer, "burst.p99", num(burst, "p99_us") / 1000);
    note(peer, "burst.cpus", num(burst, "server_cpu_s") * 1000);
    note(peer, "burst.client", num(burst, "client_cpu_pct"));
    integrity(peer, burst, ROOM_CHECKS);
  },
  // Warm-up only, as in the room of 100 (ROOM_SETTLE_LINES): three chat servers compiled 334, 305, 115, 33,
  // 52, 34, 26, 40, 29 and 5 functions in their first ten paced passes.
  async (peer, cluster) => {
    if (recording) return;
    const settle = await clusterRun(cluster, ROOM_SETTLE_LINES, CLUSTER_RATE, ROOM_SETTLE_LINES / CLUSTER_RATE);
    integrity(peer, settle, ROOM_CHECKS);
  },
];

async function clusterCase(): Promise<void> {
  if (!REDIS_SERVER) {
    notes.push("Cluster case skipped: redis-server not installed (apt-get install redis-server).");
    return;
  }
  const chat = (args: string[]) => chatSpec(args);
  const setups = Object.fromEntries(CLUSTER_SETUPS.map((setup) => [setup.peer, () => startCluster(setup, chat, PEERS)]));
  const done = (peer: string, cluster: Cluster) => {
    const peak = cluster.memory();
    note(peer, "rss.server", peak.server);
    note(peer, "rss.redis", peak.redis);
  };
  await interleaved(setups, clusterCases, done, WARMUP);
  notes.push(
    `Cluster runs with more than ${CLUSTER_OTHER_MAX} % of a core of other load were run again (up to ${CLUSTER_ATTEMPTS} times in all): ${clusterRepeats} repeated, ${clusterDisturbed} kept disturbed.`,
  );
}

/** 10,000 connections, each set up once the server has answered it; memory read while they are held. */
async function idleCase(peer: string, spec: ServerSpec, hello: string): Promise<void> {
  const server = await startServer(spec);
  try {
    let held = 0;
    const idle = await load(
      ["idle", "--port", String(server.port), "--conns", String(IDLE_CONNS), "--hello", hello, "--hold", "2"],
      40,
      (line) => {
        if (line.startsWith("ready")) held = server.memory().rss;
      },
    );
    note(peer, "idle.s", num(idle, "setup_s"));
    note(peer, "idle.rss", held);
    note(peer, "idle.peak", server.memory().peak);
    if (num(idle, "failed") > 0) problems.push(`${peer}: idle connections failed=${idle.failed}`);
  } finally {
    await server.stop();
  }
}

/** Start-ups timed per binary; the median counts. */
const START_RUNS = 15;

/**
 * chat from spawn to its listening line, alternately with a compiled Bun
 * program that only listens (the runtime's own start-up: the floor).
 */
async function startCase(): Promise<void> {
  await Bun.$`${process.execPath} build ${LISTEN_SOURCE} ${COMPILE_FLAGS} --outfile ${LISTEN}`.quiet();
  const specs: Record<string, ServerSpec> = { chat: chatSpec([]), bun: { ...chatSpec([]), cmd: [LISTEN] } };
  for (let run = 0; run < START_RUNS; run++) {
    for (const [peer, spec] of Object.entries(specs)) {
      const server = await startServer(spec, false);
      note(peer, "start.ms", server.startMs);
      await server.stop();
    }
  }
}

/** Lines of random binary the print case sanitises, each this long, this many rounds (the best counts). */
const PRINT_LINES = 16_384;
const PRINT_LINE_BYTES = 256;
const PRINT_ROUNDS = 5;

/**
 * chat's sanitiser (what echo and oneway do to every received line before
 * printing it) on the load generator's kind of bytes, in this process,
 * beside the same algorithm compiled from C: what the work itself costs.
 */
async function printCase(): Promise<void> {
  const input = new Uint8Array(PRINT_LINES * PRINT_LINE_BYTES);
  let x = 12345;
  for (let i = 0; i < input.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    input[i] = x >>> 24;
  }
  const out = new Uint8Array(PRINT_LINE_BYTES * SANITIZE_GROWTH);
  let best = Number.POSITIVE_INFINITY;
  let hash = 2166136261;
  let outBytes = 0;
  for (let round = 0; round < PRINT_ROUNDS; round++) {
    const started = Bun.nanoseconds();
    let sum = 0;
    for (let line = 0; line < PRINT_LINES; line++) {
      const end = sanitizeInto(input, line * PRINT_LINE_BYTES, (line + 1) * PRINT_LINE_BYTES, out, 0);
      sum += end;
      // FNV-1a of the output, as bench-print.c computes it (the first round; the others are timed).
      if (round === 0) for (let k = 0; k < end; k++) hash = Math.imul(hash ^ (out[k] ?? 0), 16777619) >>> 0;
    }
    if (round > 0) best = Math.min(best, Bun.nanoseconds() - started);
    outBytes = sum;
  }
  note("print", "js", best / input.length);
  const c = parseFields((await Bun.$`${PRINT} ${PRINT_LINES} ${PRINT_LINE_BYTES} ${PRINT_ROUNDS}`.text()).trim());
  note("print", "c", num(c, "ns_per_byte"));
  if (num(c, "hash") !== hash || num(c, "out_bytes") !== outBytes) problems.push("print: the C sanitiser's output is not chat's");
}

/** Compiles a C helper of the bench unless it is up to date. */
async function compile(source: string, binary: string): Promise<void> {
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return;
  const cc = Bun.which("cc") ?? Bun.which("gcc");
  if (!cc) throw new Error("the bench's load generator and print helper are C: install a C compiler (cc or gcc)");
  await Bun.$`${cc} -O2 -Wall -o ${binary} ${source}`.quiet();
}

async function prepare(): Promise<void> {
  if (process.platform !== "linux") throw new Error("the load generator uses epoll and /proc: Linux only");
  if (!existsSync(CHAT)) {
    console.error("building dist/chat ...");
    await Bun.$`${process.execPath} run build`.cwd(ROOT).quiet();
  }
  await compile(LOAD_SOURCE, LOAD);
  await compile(PRINT_SOURCE, PRINT);
  if (opts["drop-caches"]) {
    await Bun.$`sync`;
    await Bun.write("/proc/sys/vm/drop_caches", "1\n");
    notes.push("The page cache was emptied before measuring (--drop-caches).");
  }
}

async function main(): Promise<void> {
  await prepare();
  const started = Date.now();
  const pins = pinned ? "server on CPU 0, load on CPU 1" : "not pinned (needs 2 CPUs and taskset)";
  console.error(`bench: ${RUNS} run(s) of ${SECONDS} s per echo case; ${pins}`);
  if (ONLY.has("start")) await startCase();
  if (ONLY.has("print")) await step("print", printCase);
  if (ONLY.has("echo")) await step("echo", () => interleaved(fromSpecs(echoPeers), echoCases, peakRss("echo.rss"), WARMUP));
  printing.remove();
  if (ONLY.has("room")) await step("room", () => interleaved(fromSpecs(roomPeers), roomCases, peakRss("room.rss"), WARMUP));
  if (ONLY.has("room1000")) await step("room1000", () => interleaved(fromSpecs(roomPeers), bigRoomCases, peakRss("big.rss"), WARMUP));
  if (ONLY.has("cluster")) await step("cluster", clusterCase);
  if (ONLY.has("idle")) {
    await step("idle chat", () => idleCase("chat", echoPeers.chat as ServerSpec, "hi"));
    await step("idle bun", () => idleCase("bun", echoPeers.bun as ServerSpec, "hi"));
    await step("idle chat room", () => idleCase("chat-room", roomPeers["chat-room"] as ServerSpec, ""));
  }
  const get = (peer: string, metric: string) => median(figures[peer]?.[metric] ?? []);
  const sum = (peer: string, metric: string) => (figures[peer]?.[metric] ?? []).reduce((a, b) => a + b, 0);
  const ratios = (a: string, b: string, metric: string) => {
    const [x, y] = [figures[a]?.[metric] ?? [], figures[b]?.[metric] ?? []];
    return x.length === y.length ? x.map((value, run) => value / (y[run] as number)) : [];
  };
  if (["echo", "room", "room1000", "idle", "start", "print"].some((name) => ONLY.has(name))) console.log(renderTable(get, sum, ratios));
  if (ONLY.has("cluster") && REDIS_SERVER) console.log(`\n${renderClusterTable(get, sum)}`);
  const coldTable = renderColdTable((peer, metric) => cold[peer]?.[metric] ?? Number.NaN, get);
  if (coldTable) console.log(`\n${coldTable}`);
  if (opts.baseline)
    console.log(`\nBefore (${opts.baseline}) and after (${CHAT}), interleaved in the same runs:\n\n${renderBaseline(get, sum)}`);
  console.log(footer(Date.now() - started));
}

async function step(name: string, run: () => Promise<void>): Promise<void> {
  console.error(`bench: ${name} ...`);
  try {
    await run();
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
  }
}

function footer(elapsedMs: number): string {
  const lines = [
    "",
    `Medians of ${RUNS} run(s); a ratio is the median of the run-by-run ratios (each run measures the peers one right after the other), with the lowest and highest run beside a target; ${(elapsedMs / 1000).toFixed(0)} s in all; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${pinned ? "server on CPU 0, load generator on CPU 1" : "not pinned"}; chat stdout to ${opts.stdout ?? "/dev/null"}.`,
    `Every server and cluster setup warmed by ${WARMUP} unrecorded pass(es) of every case (the first is the cold table; in the room of 100 and the cluster it ends with ${ROOM_SETTLE_LINES.toLocaleString("en-US")} more paced lines); printing peers: chat with stdout a regular file${SOCAT ? ", socat -v with stderr a regular file" : " (socat not installed: apt-get install socat for the comparison)"}.`,
    ...notes,
    `Other load on the machine during runs: up to ${otherLoadMax.toFixed(0)} % of a core${otherLoadMax > 10 ? " (disturbed: compare ratios, or run again on a quiet machine)" : ""}.`,
    problems.length === 0
      ? "Integrity: every echoed byte matched; no room line lost, duplicated, reordered or corrupt."
      : `Problems: ${problems.join("; ")}`,
  ];
  return lines.join("\n");
}

await main();
