/**
 * A case of scripts/reliability.ts for notice storms (issue 15, item 5):
 * 10,000 connections join a room and then close at once. The figures: what a
 * well-behaved member's screen gets (a few notices and a summary line, not
 * 10,000 lines), how long its lines take to reach another member meanwhile,
 * and the server's peak memory (read by the runner).
 */
import { CROWD_BURST } from "../src/room/crowd.ts";
import { crowd, type ServerProcess, waitFor } from "./load.ts";
import { delays, probe, summary } from "./rate-cases.ts";

/** The targets: a member's lines delayed under this during the storm. */
const DELAY_TARGET_MS = 200;
/** The room is settled when the watcher has had no line for this long. */
const SETTLE_MS = 1000;

interface Outcome {
  ok: boolean;
  detail: string;
}

const PEOPLE = /^\* (\d+) people (joined|left)$/;

/** `count` connections join, then all close at once, while a member keeps talking. */
export async function crowdStorm(server: ServerProcess, count: number): Promise<Outcome> {
  let lastLineAt = Date.now();
  const screen = { joins: 0, leaves: 0, joinedSummary: 0, leftSummary: 0 };
  const room = await probe(server.port, (line) => {
    lastLineAt = Date.now();
    const people = PEOPLE.exec(line);
    if (people) {
      if (people[2] === "joined") screen.joinedSummary += Number(people[1]);
      else screen.leftSummary += Number(people[1]);
    } else if (/^\* guest-\d+ joined$/.test(line)) screen.joins++;
    else if (/^\* guest-\d+ left/.test(line)) screen.leaves++;
  });
  const started = Date.now();
  const peers = await crowd(server.port, count);
  await waitFor(() => screen.joins + screen.joinedSummary >= count, "every join, one by one or summed up", 180_000);
  await waitFor(() => Date.now() - lastLineAt > SETTLE_MS, "the joins to settle", 60_000);
  const joinedIn = (Date.now() - started) / 1000;
  const closing = Date.now();
  const during = delays(room, "storm", 40);
  for (const peer of peers) peer.socket.terminate();
  const taken = await during;
  await waitFor(() => screen.leaves + screen.leftSummary >= count, "every leave, one by one or summed up", 60_000);
  const leftIn = (Date.now() - closing) / 1000;
  const shown = screen.joins + screen.leaves;
  const ok = Math.max(...taken) < DELAY_TARGET_MS && screen.leftSummary > 0 && screen.leaves <= CROWD_BURST * 4 && !room.watcher.closed;
  const detail =
    `${count.toLocaleString("en")} joined (${joinedIn.toFixed(1)} s) then closed at once; a member's screen got ${shown} joins and leaves ` +
    `one by one and summary lines for ${(screen.joinedSummary + screen.leftSummary).toLocaleString("en")} ` +
    `(all gone in ${leftIn.toFixed(1)} s); another member's lines took ${summary(taken)} meanwhile`;
  return { ok, detail };
}
