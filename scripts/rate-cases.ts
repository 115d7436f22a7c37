/**
 * Cases of scripts/reliability.ts for rate limits (issue 15, items 3 and 7):
 * a member flooding a room with commands that answer it (`/who`, `/events
 * json`), and one flooding it with lines under `--rate-limit`. The figure is what a
 * well-behaved member sees meanwhile: how long its lines take to reach
 * another member, before and during the flood.
 */
import { COMMAND_BURST, COMMANDS_PER_SECOND } from "../src/room/rate.ts";
import { crowd, MiB, type Peer, roomMember, type ServerProcess, waitFor } from "./load.ts";

/** A well-behaved member says a line this often while the delays are measured (without --rate-limit). */
const INTERVAL_MS = 50;
/** The room is settled when the watcher has had no line for this long. */
const SETTLE_MS = 1000;
/** The flooder writes this much at a time. */
const WRITE_BLOCK = 64 * 1024;
/** The others' lines may be delayed this much by a flood (the issue's target). */
const DELAY_TARGET_MS = 100;

interface Outcome {
  ok: boolean;
  detail: string;
}

/** A speaker whose lines a watcher notes the arrival of. */
export interface Probe {
  speaker: Peer;
  /** Each `speaker: …` line, when the watcher got it. */
  seen: Map<string, number>;
  watcher: Peer;
}

export async function probe(port: number, onLine?: (line: string) => void): Promise<Probe> {
  const seen = new Map<string, number>();
  const watcher = await roomMember(port, "watcher", {
    onLine(line) {
      if (line.startsWith("speaker: ")) seen.set(line, Date.now());
      onLine?.(line);
    },
  });
  const speaker = await roomMember(port, "speaker");
  return { speaker, seen, watcher };
}

/** The speaker says `count` lines, one every `intervalMs`; how long each took to reach the watcher. */
export async function delays({ speaker, seen }: Probe, tag: string, count: number, intervalMs = INTERVAL_MS): Promise<number[]> {
  const taken: number[] = [];
  for (let i = 0; i < count; i++) {
    const line = `speaker: ${tag} ${i}`;
    const said = Date.now();
    await speaker.write(`${tag} ${i}\n`);
    taken.push((await waitFor(() => seen.get(line), line, 10_000)) - said);
    await Bun.sleep(intervalMs);
  }
  return taken;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
export const summary = (values: number[]) => `longest ${Math.max(...values)} ms, median ${median(values)} ms`;

/** A command to flood a room with, and how to tell its reply's first line. */
export interface Command {
  line: string;
  reply: RegExp;
}

export const WHO: Command = { line: "/who", reply: /^\* \d+ here/ };
/** The `ready` object that starts each answer, the room's last lines replayed after it. */
export const EVENTS_JSON: Command = { line: "/events json", reply: /^\{.*"type":"ready"/ };

/**
 * 2,000 of `command` from one member of a room of `members`: the replies come
 * at the command rate, and the others' lines are not delayed.
 */
export async function commandFlood(server: ServerProcess, members: number, command: Command): Promise<Outcome> {
  let lastLineAt = Date.now();
  const room = await probe(server.port, () => {
    lastLineAt = Date.now();
  });
  let answered = 0;
  const asker = await roomMember(server.port, "asker", {
    onLine(line) {
      if (command.reply.test(line)) answered++;
    },
  });
  await crowd(server.port, members);
  // The crowd's joins reach everyone (each a line to each member): the room is quiet again before measuring.
  await waitFor(() => Date.now() - lastLineAt > SETTLE_MS, "the joins to settle", 180_000);
  if (room.watcher.closed) return { ok: false, detail: "the watcher was dropped during the crowd's joins" };
  // Also fills the room's history (what /events json replays).
  const cpuBefore = server.cpuMs();
  const before = await delays(room, "before", 40);
  const cpu = server.cpuMs();
  const started = Date.now();
  await asker.write(`${command.line}\n`.repeat(2000));
  const during = await delays(room, "during", 40);
  const seconds = (Date.now() - started) / 1000;
  const cpuMs = server.cpuMs() - cpu;
  const allowed = COMMAND_BURST + Math.ceil(seconds * COMMANDS_PER_SECOND) + 1;
  const ok = Math.max(...during) <= DELAY_TARGET_MS && answered >= COMMAND_BURST && answered <= allowed && !asker.closed;
  const detail =
    `${members.toLocaleString("en")} others in the room; during the flood their lines took ${summary(during)} ` +
    `(before: ${summary(before)}); the asker got ${answered} answers in ${seconds.toFixed(1)} s ` +
    `(${COMMAND_BURST}, then ${COMMANDS_PER_SECOND} a second), the rest waiting, ${asker.closed ? "DROPPED" : "still connected"}; ` +
    `server CPU ${cpuMs} ms in that time (${cpu - cpuBefore} ms for as many lines before)`;
  return { ok, detail };
}

/** Writes `text` as fast as the server takes it, in the background; `sent` says how far it got. */
function flood(peer: Peer, text: Uint8Array): { sent: () => number } {
  let sent = 0;
  void (async () => {
    while (sent < text.length && !peer.closed) {
      // A block at a time: offering all of a big buffer to a full socket costs the writer (this process) a lot each try.
      const n = peer.socket.write(text.subarray(sent, sent + WRITE_BLOCK));
      if (n > 0) sent += n;
      else await peer.drained();
    }
  })();
  return { sent: () => sent };
}

/** `--rate-limit LINES/1s`: a 100,000-line flood goes at the rate, in order, while the server holds little of it. */
export async function rateFlood(server: ServerProcess, lines: number, watchMs: number): Promise<Outcome> {
  let count = 0;
  let inOrder = true;
  const room = await probe(server.port, (line) => {
    if (!line.startsWith("flood: #")) return;
    if (Number.parseInt(line.slice(8), 10) !== count++) inOrder = false;
  });
  const flooder = await roomMember(server.port, "flood");
  const pad = "x".repeat(90);
  let text = "";
  for (let i = 0; i < 100_000; i++) text += `#${i} ${pad}\n`;
  const bytes = new TextEncoder().encode(text);
  // The speaker is held to the rate too: it keeps under it.
  const interval = (2 * 1000) / lines;
  const before = await delays(room, "before", 10, interval);
  const writing = flood(flooder, bytes);
  // What had gone through after watchMs, and what the server held then.
  const at = Promise.withResolvers<{ relayed: number; rss: number; taken: number }>();
  setTimeout(() => at.resolve({ relayed: count, rss: server.memory("VmRSS"), taken: writing.sent() }), watchMs);
  const during = await delays(room, "during", Math.floor(watchMs / interval) - 1, interval);
  const { relayed, rss, taken } = await at.promise;
  // The burst, then `lines` a second; a line's worth of slack at either end.
  const expected = lines + (watchMs / 1000) * lines;
  const ok = inOrder && Math.abs(relayed - expected) <= 2 && Math.max(...during) <= DELAY_TARGET_MS && !flooder.closed;
  const detail =
    `${(bytes.length / MiB).toFixed(1)} MiB of 100,000 lines sent at once; ${relayed} relayed in ${watchMs / 1000} s ` +
    `${inOrder ? "in order" : "OUT OF ORDER"} (${lines} at once, then ${lines} a second); the server stopped reading: ` +
    `${(taken / MiB).toFixed(1)} MiB left the sender (socket buffers, one read), server RSS ${(rss / MiB).toFixed(0)} MiB; ` +
    `the others' lines took ${summary(during)} (before: ${summary(before)}); the flooder ${flooder.closed ? "DROPPED" : "still connected"}`;
  return { ok, detail };
}
