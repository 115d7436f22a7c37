/**
 * The table `bun run bench` prints: one row per measure, chat beside its
 * peers, the ratios, and the issue's target for that ratio (the floor in
 * brackets) with whether it is met.
 */
import { CLUSTER_BURST_LINES, CLUSTER_PACED_LINES, CLUSTER_RATE, CLUSTER_RECEIVERS } from "./cluster.ts";
import { median } from "./procs.ts";

/** The median of a metric for a peer (NaN when not measured). */
export type Get = (peer: string, metric: string) => number;
/** The sum over runs (integrity counters). */
export type Sum = (peer: string, metric: string) => number;
/**
 * `a`'s figure ÷ `b`'s, run by run: the two ran one after the other in each
 * run (interleaved), so each ratio compares them on the machine as it was
 * then. Empty when their runs do not pair up.
 */
export type RunRatios = (a: string, b: string, metric: string) => number[];

/**
 * chat's ratio to a peer: the median of the run-by-run ratios when the runs
 * pair up (a machine that drifts between runs moves both figures of a run
 * alike), else the ratio of the medians; with the lowest and highest run.
 */
function pairedRatio(ratios: RunRatios, get: Get, chat: string, peer: string, metric: string): { value: number; runs: number[] } {
  const runs = ratios(chat, peer, metric).filter(Number.isFinite);
  if (runs.length > 0) return { value: median(runs), runs };
  return { value: get(chat, metric) / get(peer, metric), runs: [] };
}

function spread(runs: number[]): string {
  if (runs.length < 2) return "";
  return ` (runs ${Math.min(...runs).toFixed(2)}–${Math.max(...runs).toFixed(2)}×)`;
}

/** A peer with no column of its own, compared in the target column: its figure and chat's ratio to it are shown there. */
const OTHER_PEERS = { socat: "socat -v" } as const;
type OtherPeer = keyof typeof OTHER_PEERS;

interface Target {
  /** Against which peer, and the best/floor ratio of chat to it. */
  vs: "bun" | "node" | "abs" | OtherPeer;
  goal: number;
  floor?: number;
}

interface Row {
  label: string;
  metric: string;
  /** The peer in the chat column, when not chat (or chat-room) itself. */
  chat?: string;
  /** A peer with no column, whose figure and chat's ratio to it lead the target column. */
  beside?: OtherPeer;
  /** Higher is better (throughput) or lower (latency, CPU, memory, time). */
  higher: boolean;
  room?: boolean;
  /** The load generator's CPU metric: at >= CLIENT_BOUND_PCT the figure is the client's limit. */
  client?: string;
  targets?: Target[];
  digits?: number;
}

const CLIENT_BOUND_PCT = 90;

const ROWS: Row[] = [
  {
    label: "echo: 100 conns ping-pong 64 B, msgs/s",
    metric: "pp.msgs",
    higher: true,
    client: "pp.client",
    targets: [
      { vs: "bun", goal: 0.95, floor: 0.9 },
      { vs: "node", goal: 1.5, floor: 1.3 },
    ],
  },
  { label: "echo: 100 conns ping-pong, p99 µs", metric: "pp.p99", higher: false },
  {
    label: "echo: stream 10 conns (16 KiB window), stdout /dev/null, MB/s",
    metric: "stream.mb",
    higher: true,
    client: "stream.client",
    targets: [{ vs: "bun", goal: 0.9, floor: 0.8 }],
    digits: 1,
  },
  {
    label: "echo: stream 10 conns, text lines (~100 B), stdout /dev/null, MB/s",
    metric: "text.mb",
    higher: true,
    client: "text.client",
    digits: 1,
  },
  {
    label: "echo: stream 10 conns, stdout a regular file (every line printed), MB/s",
    metric: "stream.mb",
    chat: "chat-file",
    higher: true,
    client: "stream.client",
    beside: "socat",
    targets: [{ vs: "socat", goal: 100, floor: 50 }],
    digits: 1,
  },
  {
    label: "echo: stream 10 conns, text lines, stdout a regular file, MB/s",
    metric: "text.mb",
    chat: "chat-file",
    higher: true,
    client: "text.client",
    beside: "socat",
    digits: 1,
  },
  { label: "echo: peak RSS, MiB", metric: "echo.rss", higher: false, digits: 1 },
  { label: "room: 1,000 lines/s × 100 receivers, p50 µs", metric: "paced.p50", higher: false, room: true },
  {
    label: "room: 1,000 lines/s × 100 receivers, p99 µs",
    metric: "paced.p99",
    higher: false,
    room: true,
    targets: [{ vs: "bun", goal: 1.1, floor: 1.3 }],
  },
  { label: "room: 1,000 lines/s, server CPU %", metric: "paced.cpu", higher: false, room: true },
  { label: "room: burst of 50,000 lines, seconds", metric: "burst.s", higher: false, room: true, client: "burst.client", digits: 3 },
  {
    label: "room: burst, server CPU ms",
    metric: "burst.cpus",
    higher: false,
    room: true,
    client: "burst.client",
    targets: [{ vs: "bun", goal: 1.2, floor: 1.5 }],
  },
  { label: "room: burst, server CPU %", metric: "burst.cpu", higher: false, room: true, client: "burst.client" },
  { label: "room: peak RSS, MiB", metric: "room.rss", higher: false, room: true, digits: 1 },
  {
    label: "room 1,000 receivers: 200 lines/s, p50 µs",
    metric: "big.paced.p50",
    higher: false,
    room: true,
    client: "big.paced.client",
  },
  {
    label: "room 1,000 receivers: 200 lines/s, p99 µs",
    metric: "big.paced.p99",
    higher: false,
    room: true,
    client: "big.paced.client",
  },
  {
    label: "room 1,000 receivers: 200 lines/s, server CPU %",
    metric: "big.paced.cpu",
    higher: false,
    room: true,
    client: "big.paced.client",
  },
  {
    label: "room 1,000 receivers: burst of 5,000 lines, seconds",
    metric: "big.burst.s",
    higher: false,
    room: true,
    client: "big.burst.client",
    targets: [{ vs: "bun", goal: 1.15, floor: 1.3 }],
    digits: 3,
  },
  {
    label: "room 1,000 receivers: burst, server CPU ms",
    metric: "big.burst.cpus",
    higher: false,
    room: true,
    client: "big.burst.client",
    targets: [{ vs: "bun", goal: 1.5, floor: 2 }],
  },
  { label: "room 1,000 receivers: burst, server CPU %", metric: "big.burst.cpu", higher: false, room: true, client: "big.burst.client" },
  {
    label: "room 1,000 receivers: peak RSS, MiB",
    metric: "big.rss",
    higher: false,
    room: true,
    targets: [{ vs: "bun", goal: 1.5, floor: 2 }],
    digits: 1,
  },
  { label: "10,000 idle conns (echo mode): set-up s", metric: "idle.s", higher: false, targets: [{ vs: "abs", goal: 5 }], digits: 2 },
  { label: "10,000 idle conns (echo mode): RSS MiB", metric: "idle.rss", higher: false, targets: [{ vs: "abs", goal: 150 }], digits: 1 },
  {
    label: "start to listening, ms (bare Bun: a compiled program that only listens)",
    metric: "start.ms",
    higher: false,
    targets: [{ vs: "abs", goal: 20, floor: 30 }],
    digits: 1,
  },
];

function format(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(chat: number, other: number): string {
  if (!(Number.isFinite(chat) && Number.isFinite(other) && other > 0)) return "–";
  return times(chat / other);
}

function times(r: number): string {
  if (!Number.isFinite(r)) return "–";
  return `${r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2)}×`;
}

/** A peer's figure and chat's ratio to it (with its runs' spread). */
type Versus = (vs: Exclude<Target["vs"], "abs">) => { figure: number; value: number; runs: number[] };

/** "≥ 0.9× bun (0.8×): met" and the like, after "socat -v 0.49: 340×" for a row with a peer beside it. */
function verdict(row: Row, chat: number, versus: Versus): string {
  const name = (vs: Target["vs"]) => (vs === "socat" ? OTHER_PEERS[vs] : vs);
  const beside = row.beside ? [`${name(row.beside)} ${format(versus(row.beside).figure, 2)}: ${times(versus(row.beside).value)}`] : [];
  const targets = (row.targets ?? []).map((t) => {
    const against = t.vs === "abs" ? { value: chat, runs: [] } : versus(t.vs);
    const value = against.value;
    if (!Number.isFinite(value)) return `${name(t.vs)}: not measured`;
    const ok = (goal: number) => (row.higher ? value >= goal : value <= goal);
    const sign = row.higher ? "≥" : "≤";
    const floor = t.floor ? ` (floor ${t.floor}${t.vs === "abs" ? "" : "×"})` : "";
    const what = t.vs === "abs" ? `${sign} ${t.goal}${floor}` : `${sign} ${t.goal}× ${name(t.vs)}${floor}`;
    const state = ok(t.goal) ? "met" : t.floor && ok(t.floor) ? "floor met" : "not met";
    return `${what}: ${state}${spread(against.runs)}`;
  });
  return [...beside, ...targets].join("; ");
}

export function renderTable(get: Get, sum: Sum, ratios: RunRatios): string {
  const lines = ["| measure | chat | bare Bun | Node net | chat ÷ Bun | chat ÷ Node | target |", "|---|---:|---:|---:|---:|---:|---|"];
  let clientBound = false;
  for (const row of ROWS) {
    const names = row.room ? ["chat-room", "bun-room", "node-room"] : [row.chat ?? "chat", "bun", "node"];
    const [chat, bun, node] = names.map((peer) => get(peer, row.metric)) as [number, number, number];
    const cells = names.map((peer, i) => {
      const bound = row.client !== undefined && get(peer, row.client) >= CLIENT_BOUND_PCT;
      clientBound ||= bound;
      return `${format([chat, bun, node][i] as number, row.digits)}${bound ? " †" : ""}`;
    });
    const [chatName, bunName, nodeName] = names as [string, string, string];
    const versus: Versus = (vs) => {
      const other = vs === "bun" ? bunName : vs === "node" ? nodeName : vs;
      return { figure: get(other, row.metric), ...pairedRatio(ratios, get, chatName, other, row.metric) };
    };
    const cell = (vs: "bun" | "node", figure: number) => (Number.isFinite(chat) && Number.isFinite(figure) ? times(versus(vs).value) : "–");
    lines.push(`| ${row.label} | ${cells.join(" | ")} | ${cell("bun", bun)} | ${cell("node", node)} | ${verdict(row, chat, versus)} |`);
  }
  const lost = (peer: string, prefix = "") => ["lost", "duplicated", "reordered"].map((k) => format(sum(peer, `${prefix}${k}`))).join("/");
  lines.push(`| room: lost/duplicated/reordered (all runs) | ${lost("chat-room")} | ${lost("bun-room")} | – | | | 0/0/0 |`);
  lines.push(
    `| room 1,000 receivers: lost/duplicated/reordered (all runs) | ${lost("chat-room", "big.")} | ${lost("bun-room", "big.")} | – | | | 0/0/0 |`,
  );
  const room = (metric: string, digits: number) => format(get("chat-room", metric), digits);
  lines.push(
    `| 10,000 idle conns in a room (chat, default mode): set-up s / RSS MiB / peak MiB | ${room("idle.s", 2)} / ${room("idle.rss", 0)} / ${room("idle.peak", 0)} | | | | | each join is announced to everyone: n² notices |`,
  );
  const print = (metric: string) => get("print", metric);
  // A server at 0.8× bare Bun's stream with its CPU as busy has a quarter of bare Bun's time per byte left over.
  const budget = (0.25 * 1000 * (get("bun", "stream.cpu") / 100)) / get("bun", "stream.mb");
  lines.push(
    `| printing random binary (256-byte lines) in-process, ns per byte | ${format(print("js"), 2)} | | | | | the same in C (cc -O2): ${format(print("c"), 2)}; 0.8× bare Bun's stream leaves: ${format(budget, 2)} |`,
  );
  if (clientBound)
    lines.push("", "† the load generator was at ≥ 90 % of its CPU: that figure is its limit, not the server's (a floor for the server).");
  return lines.join("\n");
}

/** This build beside a baseline build (`--baseline`): each measure, and after ÷ before. */
export function renderBaseline(get: Get, sum: Sum): string {
  const lines = ["| measure | before | after | after ÷ before |", "|---|---:|---:|---:|"];
  for (const row of ROWS) {
    if (row.chat) continue;
    const [after, before] = (row.room ? ["chat-room", "before-room"] : ["chat", "before"]).map((peer) => get(peer, row.metric)) as [
      number,
      number,
    ];
    if (!Number.isFinite(after) && !Number.isFinite(before)) continue;
    lines.push(`| ${row.label} | ${format(before, row.digits)} | ${format(after, row.digits)} | ${ratio(after, before)} |`);
  }
  const lost = (peer: string) => ["lost", "duplicated", "reordered"].map((k) => format(sum(peer, k))).join("/");
  lines.push(`| room: lost/duplicated/reordered (all runs) | ${lost("before-room")} | ${lost("chat-room")} | |`);
  return lines.join("\n");
}

interface ClusterRow {
  label: string;
  metric: string;
  /** The load generator's CPU metric: at >= CLIENT_BOUND_PCT the figure is the client's limit. */
  client?: string;
  /** The issue's goal and floor for chat on 3 servers ÷ the bare relay on 3 (lower is better). */
  goal?: number;
  floor?: number;
  digits?: number;
}

const CLUSTER_ROWS: ClusterRow[] = [
  { label: `paced ${format(CLUSTER_RATE)} lines/s, p50 µs`, metric: "paced.p50", client: "paced.client" },
  { label: `paced ${format(CLUSTER_RATE)} lines/s, p99 µs`, metric: "paced.p99", client: "paced.client", goal: 1.3, floor: 1.5 },
  { label: "paced, server CPU ms (servers + Redis)", metric: "paced.cpums", client: "paced.client" },
  {
    label: `burst of ${format(CLUSTER_BURST_LINES)} lines, seconds`,
    metric: "burst.s",
    client: "burst.client",
    goal: 1.3,
    floor: 1.5,
    digits: 3,
  },
  { label: "burst, p99 ms", metric: "burst.p99", client: "burst.client", digits: 1 },
  { label: "burst, server CPU ms (servers + Redis)", metric: "burst.cpus", client: "burst.client" },
  { label: "peak RSS of the largest server, MiB", metric: "rss.server", digits: 1 },
  { label: "peak RSS of Redis, MiB", metric: "rss.redis", digits: 1 },
];

/**
 * The cluster table: chat on 3 servers and on 1 beside the bare Bun relay
 * over Redis pub/sub on 3 (peers `chat-3`, `chat-1`, `relay-3`), the ratios
 * to the relay, and the issue's targets for chat on 3 servers.
 */
export function renderClusterTable(get: Get, sum: Sum): string {
  const peers = ["chat-3", "chat-1", "relay-3"] as const;
  const lines = [
    `Cluster: a room of ${format(CLUSTER_RECEIVERS)} receivers spread round-robin over the servers, which share one redis-server (the sender on the first); ${format(CLUSTER_PACED_LINES)} lines at ${format(CLUSTER_RATE)}/s (paced), ${format(CLUSTER_BURST_LINES)} at once (burst). Server CPU: every server and Redis.`,
    "",
    "| measure | chat, 3 servers | chat, 1 server | bare Bun relay over Redis pub/sub, 3 servers | chat 3 ÷ relay | chat 1 ÷ relay | target (chat 3 ÷ relay) |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  let clientBound = false;
  for (const row of CLUSTER_ROWS) {
    const [three, one, relay] = peers.map((peer) => get(peer, row.metric)) as [number, number, number];
    const cells = peers.map((peer) => {
      const bound = row.client !== undefined && get(peer, row.client) >= CLIENT_BOUND_PCT;
      clientBound ||= bound;
      return `${format(get(peer, row.metric), row.digits)}${bound ? " †" : ""}`;
    });
    let target = "";
    if (row.goal !== undefined) {
      const value = three / relay;
      const state = !Number.isFinite(value)
        ? "not measured"
        : value <= row.goal
          ? "met"
          : row.floor !== undefined && value <= row.floor
            ? "floor met"
            : "not met";
      target = `≤ ${row.goal}×${row.floor !== undefined ? ` (floor ${row.floor}×)` : ""}: ${state}`;
    }
    lines.push(`| ${row.label} | ${cells.join(" | ")} | ${ratio(three, relay)} | ${ratio(one, relay)} | ${target} |`);
  }
  const lost = (peer: string) => ["lost", "duplicated", "reordered"].map((k) => format(sum(peer, k))).join("/");
  lines.push(`| lost/duplicated/reordered (all runs) | ${peers.map(lost).join(" | ")} | | | 0/0/0 |`);
  if (clientBound)
    lines.push("", "† the load generator was at ≥ 90 % of its CPU: that figure is its limit, not the server's (a floor for the server).");
  return lines.join("\n");
}
