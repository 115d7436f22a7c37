/**
 * `bun scripts/reliability.ts`: abuses the compiled server (dist/chat, built
 * first when missing or older than src/) one fresh process per case, and
 * prints a Markdown table of each case's peak server RSS (VmHWM) and outcome.
 * Load comes from this process (and python3 for resets), never the server's.
 * Exits 1 when a case fails. Not part of `npm test`: it takes about a minute and a half.
 *
 *   bun scripts/reliability.ts [--no-build] [CASE-NAME-SUBSTRING...]
 *
 * CHAT_WHO_ROOM=N sets the members of the `/who` case's room (default
 * 10,000, as the issue asks; the crowd's joins reach members as a few lines
 * and a summary, and its connections are opened in batches).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SHUTDOWN_GRACE_MS } from "../src/defaults.ts";
import { crowd, MiB, nonReaders, Pattern, Peer, randomBytes, resets, roomMember, ServerProcess, waitFor } from "./load.ts";
import { commandFlood, EVENTS_JSON, rateFlood, WHO } from "./rate-cases.ts";
import { crowdStorm } from "./storm-cases.ts";
import { stalledHandshakes, tlsArgs, welcomed } from "./tls-cases.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BINARY = join(ROOT, "dist/chat");
/** The target from the hardening issue: peak RSS of the server under each case. */
const RSS_TARGET = 200 * MiB;
const MAX_LINE = 4096;
/** Members of the room the `/who` flood is measured in. */
const WHO_ROOM = Number(process.env.CHAT_WHO_ROOM ?? 10_000);

interface Outcome {
  ok: boolean;
  detail: string;
  /** Peak RSS, from a case that stops the server itself (read before it did). */
  peak?: number;
}

interface Case {
  name: string;
  mode: "twoway" | "echo" | "oneway";
  args?: string[];
  /** Run the server under `ulimit -n fdLimit`. */
  fdLimit?: number;
  /** The server speaks TLS: the probes do too. */
  tls?: boolean;
  /** The case stops the server itself (SIGTERM): no probe after it. */
  stops?: boolean;
  run(server: ServerProcess): Promise<Outcome>;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

async function longLine(server: ServerProcess, twoway: boolean): Promise<Outcome> {
  const watcher = twoway ? await roomMember(server.port, "watcher") : null;
  const sender = await Peer.connect(server.port, { keepLines: true });
  const started = Date.now();
  const block = new Uint8Array(MiB).fill(0x79);
  for (let i = 0; i < 64; i++) await sender.write(block);
  await sender.write("\nafter\n");
  const cut = "y".repeat(MAX_LINE);
  let received: string[];
  if (watcher) {
    const name = /^\* welcome, you are (\S+) /.exec(sender.lines[0] ?? "")?.[1];
    await waitFor(() => watcher.lines.includes(`${name}: after`), "the line after", 60_000);
    received = watcher.lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(`${name}: `.length));
    await waitFor(() => sender.lines.includes(`! line too long: cut at ${MAX_LINE} bytes`), "the sender to be told", 10_000);
  } else {
    const from = `127.0.0.1:${sender.socket.localPort}: `;
    await waitFor(() => server.stdout.includes(`${from}after\n`), "the line after", 60_000);
    received = server.stdout
      .split("\n")
      .filter((l) => l.startsWith(from))
      .map((l) => l.slice(from.length));
  }
  const ok = received.length === 2 && received[0] === cut && received[1] === "after";
  const how = watcher ? "relayed" : "printed";
  return {
    ok,
    detail: `64 MiB through in ${seconds(started)}; ${how} cut at ${MAX_LINE} bytes${watcher ? ", sender told" : ""}, next line intact`,
  };
}

/** Writes without reading until the kernel takes nothing for `quietMs`; returns how much went in. */
async function writeUntilStalled(peer: Peer, pattern: Pattern, limit: number, quietMs = 1000): Promise<number> {
  let sent = 0;
  let lastProgress = Date.now();
  while (sent < limit && Date.now() - lastProgress < quietMs) {
    const n = peer.socket.write(pattern.at(sent, limit - sent));
    if (n > 0) {
      sent += n;
      lastProgress = Date.now();
    } else await Bun.sleep(20);
  }
  return sent;
}

async function echoNonReader(server: ServerProcess): Promise<Outcome> {
  const total = 256 * MiB;
  const pattern = new Pattern();
  let received = 0;
  let intact = true;
  const peer = await Peer.connect(server.port, {
    onChunk(chunk) {
      if (intact && !pattern.matches(received, chunk)) intact = false;
      received += chunk.length;
    },
  });
  peer.socket.pause();
  const stalledAt = await writeUntilStalled(peer, pattern, total);
  const rssStalled = server.memory("VmRSS");
  const started = Date.now();
  peer.socket.resume();
  for (let sent = stalledAt; sent < total; ) {
    const chunk = pattern.at(sent, total - sent);
    await peer.write(chunk);
    sent += chunk.length;
  }
  await waitFor(() => received >= total || peer.closed, "the whole echo", 120_000);
  const ok = received === total && intact && !peer.closed;
  const detail = `paused after taking ${mib(stalledAt)} (server RSS then ${mib(rssStalled)}); then all ${mib(received)} echoed ${intact ? "byte-exact" : "CORRUPTED"} in ${seconds(started)}`;
  return { ok, detail };
}

/** Counts numbered flood lines (`flood: #N ...`) in order, without keeping them. */
function floodCounter() {
  const state = { count: 0, inOrder: true, notices: [] as string[], lastAt: 0, longestGapMs: 0 };
  const onLine = (line: string) => {
    if (!line.startsWith("flood: #")) {
      state.notices.push(line);
      return;
    }
    const now = Date.now();
    if (state.count > 0) state.longestGapMs = Math.max(state.longestGapMs, now - state.lastAt);
    state.lastAt = now;
    if (Number.parseInt(line.slice(8), 10) !== state.count++) state.inOrder = false;
  };
  return { state, onLine };
}

async function roomFlood(server: ServerProcess): Promise<Outcome> {
  const lines = 100_000;
  const stalled = await roomMember(server.port, "stalled");
  stalled.socket.pause();
  const readers = [floodCounter(), floodCounter()];
  await Promise.all(readers.map((r, i) => roomMember(server.port, `reader${i + 1}`, { onLine: r.onLine })));
  const sender = await roomMember(server.port, "flood");
  const pad = "x".repeat(90);
  let text = "";
  for (let i = 0; i < lines; i++) text += `#${i} ${pad}\n`;
  const started = Date.now();
  await sender.write(text);
  await waitFor(() => readers.every((r) => r.state.count >= lines), "every line to both readers", 120_000);
  const took = seconds(started);
  await waitFor(() => stalled.closed, "the stalled reader to be dropped", 10_000);
  const told = readers.every((r) => r.state.notices.includes("* stalled left (too slow)"));
  const counts = readers.map((r) => `${r.state.count.toLocaleString("en")}${r.state.inOrder ? " in order" : " OUT OF ORDER"}`);
  const ok = told && readers.every((r) => r.state.count === lines && r.state.inOrder);
  const gap = Math.max(...readers.map((r) => r.state.longestGapMs));
  const detail = `${(text.length / MiB).toFixed(1)} MiB in ${took}; readers got ${counts.join(" / ")} (longest pause ${gap} ms); stalled reader dropped, room told: ${told}`;
  return { ok, detail };
}

async function manyClients(server: ServerProcess, mode: Case["mode"], count: number): Promise<Outcome> {
  const started = Date.now();
  const peers = await crowd(server.port, count);
  if (mode === "twoway") await waitFor(() => peers.every((p) => p.lineCount >= 1 || p.closed), "every greeting", 60_000);
  const connected = seconds(started);
  for (const [i, peer] of peers.entries()) peer.socket.write(`hello from ${i}\n`);
  // Twoway: the greeting, every other client's line, and the joins each saw; echo: its own line back.
  const wanted = mode === "twoway" ? count : 1;
  await waitFor(() => peers.every((p) => p.lineCount >= wanted || p.closed), "every line to every client", 120_000);
  const dropped = peers.filter((p) => p.closed).length;
  for (const [i, peer] of peers.entries()) {
    if (i % 2) peer.socket.terminate();
    else peer.socket.end();
  }
  const what = mode === "twoway" ? "each got all the others' lines" : "each got its line back";
  return {
    ok: dropped === 0,
    detail: `${count.toLocaleString("en")} connected in ${connected}, ${what} by ${seconds(started)}${dropped ? `; ${dropped} closed early` : ""}`,
  };
}

async function probe(server: ServerProcess, mode: Case["mode"], tls = false): Promise<boolean> {
  if (tls)
    return welcomed(server.port).then(
      () => true,
      () => false,
    );
  const peer = await Peer.connect(server.port, { keepLines: true });
  try {
    await peer.write("probe\n");
    if (mode === "echo") await waitFor(() => peer.lines.includes("probe"), "the probe's echo", 10_000);
    else if (mode === "oneway") await waitFor(() => server.stdout.includes(": probe\n"), "the printed probe", 10_000);
    else await waitFor(() => peer.lines.some((l) => l.startsWith("* welcome")), "the probe's greeting", 10_000);
    return true;
  } catch {
    return false;
  } finally {
    peer.socket.terminate();
  }
}

async function resetStorm(server: ServerProcess): Promise<Outcome> {
  const started = Date.now();
  await resets(server.port, 1000);
  return { ok: true, detail: `1,000 connect+RST (half mid-line) in ${seconds(started)}` };
}

async function randomBlobs(server: ServerProcess, mode: Case["mode"]): Promise<Outcome> {
  const clients = mode === "twoway" ? 8 : 16;
  const size = mode === "twoway" ? 1 * MiB : 4 * MiB;
  const started = Date.now();
  const blobs = Array.from({ length: clients }, () => randomBytes(size));
  const got = blobs.map(() => ({ bytes: 0, intact: true }));
  const peers = await Promise.all(
    blobs.map((blob, i) =>
      Peer.connect(server.port, {
        onChunk(chunk) {
          const g = got[i];
          if (!g) return;
          if (mode === "echo" && !Buffer.from(blob.subarray(g.bytes, g.bytes + chunk.length)).equals(chunk)) g.intact = false;
          g.bytes += chunk.length;
        },
      }),
    ),
  );
  await Promise.all(peers.map((p, i) => p.write(blobs[i] ?? new Uint8Array(0)).then(() => p.socket.shutdown())));
  await waitFor(() => peers.every((p) => p.closed), "the server to close every blob client", 60_000);
  const slow = server.stdout.includes("(too slow)") ? " (someone dropped as too slow)" : "";
  if (mode === "echo") {
    const ok = got.every((g) => g.bytes === size && g.intact);
    return { ok, detail: `${clients} × ${mib(size)} random echoed ${ok ? "byte-exact" : "WRONG"} in ${seconds(started)}` };
  }
  return { ok: slow === "", detail: `${clients} × ${mib(size)} random in ${seconds(started)}, ${mib(server.stdoutChars)} printed${slow}` };
}

/** A connection once the server accepts one (it may have stopped accepting for a moment). */
async function connectWhenAccepting(port: number): Promise<Peer> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await Peer.connect(port, { keepLines: true });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
}

/** Under `ulimit -n 256`: 400 idle connections; the server's CPU, what a newcomer is told, service once 100 leave. */
async function outOfFds(server: ServerProcess): Promise<Outcome> {
  const peers: Peer[] = [];
  for (let i = 0; i < 400; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => Peer.connect(server.port, { keepLines: true }).catch(() => null)));
    for (const peer of batch) if (peer) peers.push(peer);
  }
  // Refusals are closed within half a second; then the server accepts again.
  await Bun.sleep(1000);
  const held = peers.filter((p) => !p.closed);
  const fds = server.fds();
  const cpuBefore = server.cpuSeconds();
  const since = Date.now();
  await Bun.sleep(2000);
  const cpu = (server.cpuSeconds() - cpuBefore) / ((Date.now() - since) / 1000);
  const asked = Date.now();
  const newcomer = await connectWhenAccepting(server.port).catch(() => null);
  const closed = await waitFor(() => newcomer?.closed, "the newcomer to be closed", 3000).then(
    () => true,
    () => false,
  );
  const closedIn = Date.now() - asked;
  const told = newcomer?.lines.join(" / ") ?? "";
  for (const peer of held.slice(0, 100)) peer.socket.terminate();
  const later = await connectWhenAccepting(server.port).catch(() => null);
  const welcomed = await waitFor(() => later?.lines.some((l) => l.startsWith("* welcome")), "a later client's greeting", 5000).then(
    () => true,
    () => false,
  );
  const pct = `${(cpu * 100).toFixed(1)} %`;
  const answer = closed ? `told \`${told}\` and closed in ${closedIn} ms` : `told \`${told}\`, NOT CLOSED within 3 s`;
  return {
    ok: cpu < 0.1 && told === "! server full" && closed && closedIn < 500 && welcomed,
    detail: `${held.length} of 400 still open (the rest told \`! server full\` or reset while accepting was stopped), ${fds} fds of 256; server CPU ${pct} over 2 s; a newcomer ${answer}; 100 dropped: the next one ${welcomed ? "welcomed" : "NOT SERVED"}`,
  };
}

/** `count` members that never read, a flood of 2,000 lines, then SIGTERM: the time to exit, and what a reading member got. */
async function shutdownNonReaders(server: ServerProcess, count: number): Promise<Outcome> {
  const held = await nonReaders(server.port, count);
  try {
    const reader = await roomMember(server.port, "reader");
    const talker = await roomMember(server.port, "talker");
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${"z".repeat(90)}`);
    await talker.write(`${lines.join("\n")}\n`);
    await waitFor(() => server.stdout.includes("talker: line 1999 "), "the flood relayed", 60_000);
    const peak = server.memory("VmHWM");
    const signalled = Date.now();
    const code = await server.stop();
    const took = Date.now() - signalled;
    await waitFor(() => reader.closed, "the reader to see EOF", 10_000);
    const got = reader.lines.filter((l) => l.startsWith("talker: ")).length;
    const last = reader.lines.at(-1);
    return {
      peak,
      ok: code === 0 && took < SHUTDOWN_GRACE_MS && got === lines.length && last === "* server shutting down",
      detail: `${count.toLocaleString("en")} non-readers (4 KiB receive buffers), 2,000 lines flooded; SIGTERM to exit ${(took / 1000).toFixed(2)} s (exit ${code}; grace ${SHUTDOWN_GRACE_MS / 1000} s); a reading member got ${got.toLocaleString("en")} lines, then \`${last}\``,
    };
  } finally {
    held.close();
  }
}

const CASES: Case[] = [
  { name: "64 MiB line, no newline", mode: "oneway", run: (s) => longLine(s, false) },
  { name: "64 MiB line, no newline", mode: "twoway", run: (s) => longLine(s, true) },
  { name: "256 MiB to a client that does not read", mode: "echo", run: echoNonReader },
  { name: "100,000-line flood, 1 stalled + 2 readers", mode: "twoway", run: roomFlood },
  { name: "2,000 concurrent connections", mode: "twoway", run: (s) => manyClients(s, "twoway", 2000) },
  { name: "2,000 concurrent connections", mode: "echo", run: (s) => manyClients(s, "echo", 2000) },
  { name: "1,000 immediate resets (SO_LINGER 0)", mode: "twoway", run: resetStorm },
  { name: "random binary blobs", mode: "twoway", run: (s) => randomBlobs(s, "twoway") },
  { name: "random binary blobs", mode: "echo", run: (s) => randomBlobs(s, "echo") },
  { name: "random binary blobs", mode: "oneway", run: (s) => randomBlobs(s, "oneway") },
  { name: "2,000 /who from one member", mode: "twoway", args: ["--max-clients", "10100"], run: (s) => commandFlood(s, WHO_ROOM, WHO) },
  {
    name: "10,000 stalled TLS handshakes",
    mode: "twoway",
    args: ["--max-clients", "12000", ...tlsArgs()],
    tls: true,
    run: (s) => stalledHandshakes(s, Number(process.env.CHAT_STALLED ?? 10_000)),
  },
  {
    name: "10,000 joining, then closing at once",
    mode: "twoway",
    args: ["--max-clients", "10100"],
    run: (s) => crowdStorm(s, Number(process.env.CHAT_STORM ?? 10_000)),
  },
  { name: "2,000 /events json from one member", mode: "twoway", run: (s) => commandFlood(s, 100, EVENTS_JSON) },
  { name: "100,000-line flood, --rate-limit 10/1s", mode: "twoway", args: ["--rate-limit", "10/1s"], run: (s) => rateFlood(s, 10, 5000) },
  { name: "out of fds: ulimit -n 256, 400 idle connections", mode: "twoway", fdLimit: 256, run: outOfFds },
  {
    name: "shutdown with 10,000 members that do not read",
    mode: "twoway",
    args: ["--max-clients", "10100"],
    stops: true,
    run: (s) => shutdownNonReaders(s, 10_000),
  },
];

interface Row {
  name: string;
  mode: string;
  baseline: number;
  peak: number;
  ok: boolean;
  detail: string;
}

/** One case on a fresh server: run it, check the server survived and let go of every socket, stop it. */
async function runCase(c: Case): Promise<Row> {
  const server = await ServerProcess.start(BINARY, ["--mode", c.mode, ...(c.args ?? [])], { fdLimit: c.fdLimit });
  const baseline = server.memory("VmRSS");
  const warm = await probe(server, c.mode, c.tls);
  await Bun.sleep(200);
  const fds = server.fds();
  let outcome: Outcome;
  try {
    outcome = await c.run(server);
  } catch (error) {
    outcome = { ok: false, detail: `failed: ${(error as Error).message}` };
  }
  Peer.closeAll();
  if (c.stops) {
    const peak = outcome.peak ?? Number.NaN;
    const code = await server.stop();
    const detail = code === 0 ? outcome.detail : `${outcome.detail}; exit code ${code}`;
    return { name: c.name, mode: c.mode, baseline, peak, ok: warm && outcome.ok && code === 0 && peak < RSS_TARGET, detail };
  }
  const alive = warm && (await probe(server, c.mode, c.tls));
  const released = await waitFor(() => server.fds() <= fds, "the server's sockets to close", 30_000).then(
    () => true,
    () => false,
  );
  const peak = server.memory("VmHWM");
  const code = await server.stop();
  const problems = [
    alive ? "" : "server stopped answering",
    released ? "" : `fds not back to ${fds}`,
    code === 0 ? "" : `exit code ${code}`,
  ].filter(Boolean);
  const detail = [outcome.detail, alive && released ? "fds back to baseline, still serving" : "", ...problems].filter(Boolean).join("; ");
  return { name: c.name, mode: c.mode, baseline, peak, ok: outcome.ok && problems.length === 0 && peak < RSS_TARGET, detail };
}

function table(rows: Row[]): string {
  const lines = ["| case | mode | RSS idle | peak RSS | result | details |", "|---|---|---:|---:|---|---|"];
  for (const r of rows)
    lines.push(`| ${r.name} | ${r.mode} | ${mib(r.baseline)} | ${mib(r.peak)} | ${r.ok ? "pass" : "FAIL"} | ${r.detail} |`);
  return lines.join("\n");
}

/** Whether dist/chat is missing or older than a file in src/. */
function stale(): boolean {
  if (!existsSync(BINARY)) return true;
  const built = statSync(BINARY).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  return newest(join(ROOT, "src")) > built;
}

const args = process.argv.slice(2);
if (!args.includes("--no-build") && stale()) {
  process.stderr.write("building dist/chat ...\n");
  const build = Bun.spawnSync({ cmd: [process.execPath, join(ROOT, "scripts/build.ts")], stdout: "ignore", stderr: "inherit" });
  if (build.exitCode !== 0) process.exit(1);
}
const filters = args.filter((a) => !a.startsWith("--"));
const rows: Row[] = [];
for (const c of CASES.filter((c) => filters.length === 0 || filters.some((f) => `${c.name} ${c.mode}`.includes(f)))) {
  process.stderr.write(`${c.name} (${c.mode}) ...\n`);
  rows.push(await runCase(c));
}
console.log(table(rows));
console.log(`\nTarget: peak RSS under ${mib(RSS_TARGET)} per case. ${rows.filter((r) => r.ok).length} of ${rows.length} passed.`);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
