/** The collection after a crowd has left: once enough connections closed, at the first tick with no close. */
import { expect, test } from "bun:test";
import { COLLECT_AFTER_CLOSES, CrowdCollector } from "../src/server/collect.ts";

const cases: { name: string; steps: ("close" | "tick")[]; collections: number }[] = [
  {
    name: "fewer closes than the threshold: never",
    steps: [...Array(COLLECT_AFTER_CLOSES - 1).fill("close"), "tick", "tick"],
    collections: 0,
  },
  {
    name: "a crowd still leaving: not during it",
    steps: [...Array(COLLECT_AFTER_CLOSES).fill("close"), "tick", "close", "tick"],
    collections: 0,
  },
  {
    name: "a crowd gone: at the first quiet tick, once",
    steps: [...Array(COLLECT_AFTER_CLOSES).fill("close"), "tick", "tick", "tick"],
    collections: 1,
  },
  {
    name: "two crowds: twice",
    steps: [...Array(COLLECT_AFTER_CLOSES).fill("close"), "tick", "tick", ...Array(COLLECT_AFTER_CLOSES).fill("close"), "tick", "tick"],
    collections: 2,
  },
];

for (const { name, steps, collections } of cases) {
  test(name, () => {
    let collected = 0;
    const collector = new CrowdCollector(() => collected++);
    for (const step of steps) {
      if (step === "close") collector.closed();
      else collector.tick();
    }
    expect(collected).toBe(collections);
  });
}
