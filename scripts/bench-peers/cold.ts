/**
 * The cold table `bun run bench` prints beside the warm one: the first,
 * unrecorded warm-up pass of each case on a freshly started server (JIT
 * warm-up included: what a server's first seconds look like), one run per
 * peer, against the warm medians' ratios. Not in the warm table's medians.
 */
import type { Get } from "./table.ts";

interface ColdRow {
  label: string;
  metric: string;
  /** chat's peer name and the peer it is compared with. */
  chat: string;
  vs: string;
  digits?: number;
}

const COLD_ROWS: ColdRow[] = [
  { label: "echo: 100 conns ping-pong, msgs/s", metric: "pp.msgs", chat: "chat", vs: "bun" },
  { label: "echo: 100 conns ping-pong, msgs/s", metric: "pp.msgs", chat: "chat", vs: "node" },
  { label: "echo: 100 conns ping-pong, p99 µs", metric: "pp.p99", chat: "chat", vs: "bun" },
  { label: "echo: stream 10 conns, stdout /dev/null, MB/s", metric: "stream.mb", chat: "chat", vs: "bun", digits: 1 },
  { label: "room 100 receivers: 1,000 lines/s, p99 µs", metric: "paced.p99", chat: "chat-room", vs: "bun-room" },
  { label: "room 100 receivers: burst, server CPU ms", metric: "burst.cpus", chat: "chat-room", vs: "bun-room" },
  { label: "room 1,000 receivers: 200 lines/s, p99 µs", metric: "big.paced.p99", chat: "chat-room", vs: "bun-room" },
  { label: "room 1,000 receivers: burst of 5,000 lines, seconds", metric: "big.burst.s", chat: "chat-room", vs: "bun-room", digits: 3 },
  { label: "room 1,000 receivers: burst, server CPU ms", metric: "big.burst.cpus", chat: "chat-room", vs: "bun-room" },
  { label: "cluster, 3 servers: paced p99 µs", metric: "paced.p99", chat: "chat-3", vs: "relay-3" },
  { label: "cluster, 3 servers: burst seconds", metric: "burst.s", chat: "chat-3", vs: "relay-3", digits: 3 },
  { label: "cluster, 3 servers: burst server CPU ms", metric: "burst.cpus", chat: "chat-3", vs: "relay-3" },
];

const PEER_NAMES: Record<string, string> = {
  bun: "bare Bun",
  node: "Node net",
  "bun-room": "bare Bun relay",
  "relay-3": "bare relay over Redis",
};

function format(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–";
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–";
}

/** The rows measured cold (`cold`), each with chat's ratio cold and warm (`warm`: the warm medians); "" when none was. */
export function renderColdTable(cold: Get, warm: Get): string {
  const lines = [
    "Cold: the first, unrecorded pass of each case on a freshly started server (JIT warm-up included), one run per peer; not in the table above.",
    "",
    "| measure (cold) | chat | peer | peer's figure | chat ÷ peer, cold | chat ÷ peer, warm (median) |",
    "|---|---:|---|---:|---:|---:|",
  ];
  let rows = 0;
  for (const row of COLD_ROWS) {
    const chat = cold(row.chat, row.metric);
    const peer = cold(row.vs, row.metric);
    if (!Number.isFinite(chat) && !Number.isFinite(peer)) continue;
    rows++;
    const warmRatio = ratio(warm(row.chat, row.metric), warm(row.vs, row.metric));
    const name = PEER_NAMES[row.vs] ?? row.vs;
    lines.push(
      `| ${row.label} | ${format(chat, row.digits)} | ${name} | ${format(peer, row.digits)} | ${ratio(chat, peer)} | ${warmRatio} |`,
    );
  }
  return rows > 0 ? lines.join("\n") : "";
}
