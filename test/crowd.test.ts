/** Crowds: a storm of joins or leaves reaches members as a few notices and one summary line. */
import { describe, expect, test } from "bun:test";
import type { ChatEvent } from "../src/events.ts";
import { CROWD_BURST, CROWD_RATE, CROWD_WINDOW_MS, Crowd } from "../src/room/crowd.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import { until } from "./helpers.ts";

const join = (name: string): Extract<ChatEvent, { type: "join" }> => ({ type: "join", name, peer: "p" });
const leave = (name: string): Extract<ChatEvent, { type: "leave" }> => ({ type: "leave", name, peer: "p", reason: "quit" });

describe("Crowd", () => {
  test("a burst goes out one by one up to the limit; the rest is one summary per direction, a window later", () => {
    const crowd = new Crowd<string>();
    const n = CROWD_BURST + 7;
    const admitted = Array.from({ length: n }, (_, i) =>
      crowd.admit(i >= CROWD_BURST && i % 3 === 2 ? leave(`n${i}`) : join(`n${i}`), undefined, 1000),
    );
    expect(admitted.filter(Boolean)).toHaveLength(CROWD_BURST);
    expect(admitted.slice(0, CROWD_BURST).every(Boolean)).toBe(true);
    const left = Array.from({ length: 7 }, (_, k) => CROWD_BURST + k).filter((i) => i % 3 === 2).length;
    expect(crowd.due(1000 + CROWD_WINDOW_MS - 1)).toEqual([]);
    expect(crowd.due(1000 + CROWD_WINDOW_MS).map((t) => t.event)).toEqual([
      { type: "notice", kind: "crowd", text: `${7 - left} people joined` },
      { type: "notice", kind: "crowd", text: `${left} people left` },
    ]);
    // The bucket refilled meanwhile: shown one by one again.
    expect(crowd.admit(join("later"), undefined, 1000 + CROWD_WINDOW_MS + 1)).toBe(true);
  });

  test("one crossing counted is shown as it is, late, still not to the newcomer itself", () => {
    const crowd = new Crowd<string>();
    for (let i = 0; i < CROWD_BURST; i++) crowd.admit(join(`n${i}`), undefined, 0);
    expect(crowd.admit(join("last"), "newcomer", 0)).toBe(false);
    expect(crowd.due(CROWD_WINDOW_MS)).toEqual([{ event: join("last"), except: "newcomer" }]);
    expect(crowd.due(2 * CROWD_WINDOW_MS)).toEqual([]);
  });

  test("a steady stream at the rate is never summarised", () => {
    const crowd = new Crowd<string>();
    const gap = 1000 / CROWD_RATE;
    for (let i = 0; i < 10 * CROWD_BURST; i++) expect(crowd.admit(join(`n${i}`), undefined, i * gap)).toBe(true);
  });
});

describe("a room under a storm of joins and leaves", () => {
  test("90 connections at once: a member sees a few joins and one summary; the console sees every one; then the same for leaving", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using watcher = await testMember(s.port, "watcher");
    await watcher.write("/events json\n");
    await watcher.waitLine(/"type":"ready"/);
    await alice.waitLine("* watcher joined");
    const crowd = await Promise.all(Array.from({ length: 90 }, () => testClient(s.port)));
    for (const c of crowd) await c.waitLine(/^\* welcome/);
    // Announced together when their join grace ends.
    const summary = await alice.waitLine(/^\* \d+ people joined$/, 5000);
    const shown = alice.lines.filter((l) => /^\* guest-\d+ joined$/.test(l)).length;
    // The burst, and the few the bucket refilled while the joins came in (100 a second).
    expect(shown).toBeGreaterThanOrEqual(CROWD_BURST - 2);
    expect(shown).toBeLessThan(CROWD_BURST + 20);
    expect(summary).toBe(`* ${90 - shown} people joined`);
    await watcher.waitLine(/"kind":"crowd".*"text":"\d+ people joined"/);
    await until(() => s.events.filter((e) => e.type === "join").length === 92, "every join on the console");
    for (const c of crowd) c.close();
    const left = await alice.waitLine(/^\* \d+ people left$/, 5000);
    const leftShown = alice.lines.filter((l) => /^\* guest-\d+ left/.test(l)).length;
    expect(leftShown).toBeLessThan(CROWD_BURST + 20);
    expect(left).toBe(`* ${90 - leftShown} people left`);
    await until(() => s.events.filter((e) => e.type === "leave").length === 90, "every leave on the console");
    await alice.write("/who\n");
    await alice.waitLine("* 3 here: alice, server, watcher");
  }, 20_000);
});
