/**
 * Rate limits (issue 15, items 3 and 7): `--rate-limit LINES/DURATION` and
 * the room's command bucket slow a client by flow control: its lines wait,
 * in order, and are never dropped; it is never disconnected for it; the rest
 * of the room is not delayed.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { type Rate, TokenBucket } from "../src/net/bucket.ts";
import { afterLines, countLines } from "../src/net/throttle.ts";
import { COMMAND_BURST, COMMANDS_PER_SECOND, costOf } from "../src/room/rate.ts";
import { formatRate, parseRate } from "../src/text/units.ts";
import { testClient, testMember, testServer } from "./fixture.ts";
import { RELAY_WAYS } from "./flood.ts";
import { cliServer, until } from "./helpers.ts";

const encoder = new TextEncoder();

/** A room member that notes when each line arrived; `using` resets it. */
class TimedMember implements Disposable {
  readonly lines: { text: string; at: number }[] = [];
  closed = false;
  private rest = "";
  private readonly decoder = new TextDecoder();
  socket!: Socket<undefined>;

  static async join(port: number, name: string): Promise<TimedMember> {
    const member = new TimedMember();
    member.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => member.take(chunk),
        close: () => {
          member.closed = true;
        },
        error() {},
      },
    });
    member.say(`/nick ${name}`);
    await until(() => member.has(`* you are now ${name}`), `${name}'s rename`);
    return member;
  }

  private take(chunk: Uint8Array): void {
    const at = Date.now();
    const lines = (this.rest + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.rest = lines.pop() ?? "";
    for (const text of lines) this.lines.push({ text, at });
  }

  has(text: string): boolean {
    return this.lines.some((l) => l.text === text);
  }

  /** When `text` arrived (throws if it did not). */
  at(text: string): number {
    const line = this.lines.find((l) => l.text === text);
    if (!line) throw new Error(`no line ${text}`);
    return line.at;
  }

  /** Lines starting with `prefix`. */
  from(prefix: string): { text: string; at: number }[] {
    return this.lines.filter((l) => l.text.startsWith(prefix));
  }

  say(text: string): void {
    this.socket.write(`${text}\n`);
  }

  [Symbol.dispose](): void {
    this.socket.terminate();
  }
}

describe("units and buckets", () => {
  const rates: [string, Rate | null][] = [
    ["5/1s", { lines: 5, periodMs: 1000 }],
    ["100/1m", { lines: 100, periodMs: 60_000 }],
    ["10/500ms", { lines: 10, periodMs: 500 }],
    ["5/s", { lines: 5, periodMs: 1000 }],
    ["3/2", { lines: 3, periodMs: 2000 }],
    [" 7/1H ", { lines: 7, periodMs: 3_600_000 }],
    ["5", null],
    ["5/", null],
    ["/1s", null],
    ["0/1s", null],
    ["5/0s", null],
    ["5/0ms", null],
    ["-5/1s", null],
    ["5/1x", null],
    ["five/1s", null],
    ["5 / 1s", null],
    ["1.5/1s", null],
  ];
  test.each(rates)("parseRate(%p)", (text, rate) => {
    expect(parseRate(text)).toEqual(rate);
  });

  test("formatRate gives back what parseRate reads", () => {
    for (const text of ["5/1s", "100/1m", "10/500ms", "7/1h"]) expect(formatRate(parseRate(text) ?? { lines: 0, periodMs: 0 })).toBe(text);
  });

  test("a bucket gives its burst at once, then one token per period/burst; taking may overdraw it", () => {
    const b = new TokenBucket(5, 1000, 0);
    expect(b.whole(0)).toBe(5);
    b.take(5, 0);
    expect(b.whole(0)).toBe(0);
    expect(b.wait(0)).toBe(200);
    expect(b.wait(150)).toBe(50);
    expect(b.whole(200)).toBe(1);
    expect(b.wait(200)).toBe(0);
    // Refilled up to the burst, no more.
    expect(b.whole(60_000)).toBe(5);
    b.take(7, 60_000);
    expect(b.whole(60_000)).toBe(0);
    expect(b.wait(60_000)).toBe(600);
  });

  test("afterLines and countLines", () => {
    const bytes = encoder.encode("a\nbb\nccc\nd");
    expect(afterLines(bytes, 0, bytes.length, 1)).toBe(2);
    expect(afterLines(bytes, 0, bytes.length, 2)).toBe(5);
    expect(afterLines(bytes, 2, bytes.length, 1)).toBe(5);
    expect(afterLines(bytes, 0, bytes.length, 9)).toBe(bytes.length);
    expect(afterLines(bytes, 0, 4, 2)).toBe(4);
    expect(countLines(bytes, 0, bytes.length)).toBe(3);
    expect(countLines(bytes, 2, 9)).toBe(2);
    expect(countLines(bytes, 0, 0)).toBe(0);
  });

  const costs: [string, ReturnType<typeof costOf>][] = [
    ["hello", "line"],
    ["//who", "line"],
    ["/me waves", "line"],
    ["/msg bob hi", "line"],
    ["/who", "command"],
    ["/WHO al", "command"],
    ["/help", "command"],
    ["/events json", "command"],
    ["/nick ada", "command"],
    ["/me", "command"],
    ["/msg bob", "command"],
    ["/frobnicate", "command"],
    ["/kick bob", "command"],
    ["/quit", "free"],
  ];
  test.each(costs)("costOf(%p) is %p", (text, cost) => {
    expect(costOf(text)).toBe(cost);
  });
});

describe("--rate-limit", () => {
  /** 10 at once, then one every 50 ms: 50 lines take 2 s. */
  const RATE: Rate = { lines: 10, periodMs: 500 };
  const LINES = 50;
  const SPREAD_MS = ((LINES - RATE.lines) * RATE.periodMs) / RATE.lines;

  test.each(RELAY_WAYS)(
    "twoway (%s): 50 lines all arrive, in order, spread over time; the sender stays; another member's line is prompt",
    async (_, relay) => {
      await using s = await testServer({ rateLimit: RATE, relay });
      using watcher = await TimedMember.join(s.port, "watcher");
      using other = await TimedMember.join(s.port, "other");
      using flood = await testMember(s.port, "flood");
      const sent = Date.now();
      await flood.write(Array.from({ length: LINES }, (_, i) => `#${i}\n`).join(""));
      await Bun.sleep(SPREAD_MS / 4);
      const saidAt = Date.now();
      other.say("prompt");
      await until(() => watcher.from("flood: ").length === LINES, "every flood line", SPREAD_MS * 4);
      const got = watcher.from("flood: ");
      expect(got.map((l) => l.text)).toEqual(Array.from({ length: LINES }, (_, i) => `flood: #${i}`));
      const last = got.at(-1)?.at ?? 0;
      // The bucket was full when the lines were sent: the last one could not go before SPREAD_MS.
      expect(last - sent).toBeGreaterThanOrEqual(SPREAD_MS - 10);
      // Spread out, not all at the end: the burst at once, line 30 about halfway.
      expect((got[RATE.lines - 1]?.at ?? 0) - sent).toBeLessThan(SPREAD_MS / 4);
      expect((got[30]?.at ?? 0) - sent).toBeGreaterThanOrEqual(((30 - RATE.lines) * RATE.periodMs) / RATE.lines - 10);
      expect(watcher.at("other: prompt") - saidAt).toBeLessThan(100);
      expect(watcher.at("other: prompt")).toBeLessThan(last);
      expect(flood.closedAt).toBeNull();
      expect(s.events.some((e) => e.type === "leave")).toBe(false);
    },
  );

  test("twoway: lines sent with a FIN still go at the rate, then the sender leaves", async () => {
    await using s = await testServer({ rateLimit: RATE });
    using watcher = await TimedMember.join(s.port, "watcher");
    using flood = await testMember(s.port, "flood");
    const sent = Date.now();
    await flood.write(Array.from({ length: 30 }, (_, i) => `#${i}\n`).join(""));
    flood.finish();
    await until(() => watcher.has("* flood left"), "the sender to leave", 10_000);
    const got = watcher.from("flood: ");
    expect(got.map((l) => l.text)).toEqual(Array.from({ length: 30 }, (_, i) => `flood: #${i}`));
    expect((got.at(-1)?.at ?? 0) - sent).toBeGreaterThanOrEqual(((30 - RATE.lines) * RATE.periodMs) / RATE.lines - 10);
  });

  test("twoway: a member held by its rate is not idle; it times out only once its lines are through", async () => {
    await using s = await testServer({ rateLimit: { lines: 1, periodMs: 400 }, idleTimeoutMs: 300 });
    using slow = await testMember(s.port, "slow");
    await slow.write("a\nb\nc\nd\n");
    // What had been said when the server decided it was idle.
    const saidWhenTimedOut = await until(
      () => s.statuses.some((t) => t.endsWith(" timed out")) && s.messages().map((m) => m.text),
      "the time-out",
      10_000,
    );
    expect(saidWhenTimedOut).toEqual(["a", "b", "c", "d"]);
  });

  test("oneway: printed at the rate, in order, none lost", async () => {
    await using s = await testServer({ mode: "oneway", rateLimit: { lines: 5, periodMs: 250 } });
    using c = await testClient(s.port);
    const sent = Date.now();
    await c.write(Array.from({ length: 20 }, (_, i) => `#${i}\n`).join(""));
    await until(() => s.lineTimes.length === 20, "every line printed", 5000);
    expect(s.messages().map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `#${i}`));
    expect((s.lineTimes.at(-1) ?? 0) - sent).toBeGreaterThanOrEqual(750 - 10);
    expect(c.closedAt).toBeNull();
  });

  test("echo: not limited (an echo answers bytes as they come)", async () => {
    await using s = await testServer({ mode: "echo", rateLimit: { lines: 1, periodMs: 10_000 } });
    using c = await testClient(s.port);
    const text = Array.from({ length: 20 }, (_, i) => `#${i}\n`).join("");
    await c.write(text);
    await until(() => c.text === text, "the whole echo", 2000);
  });
});

describe("commands that answer are rate-limited per member", () => {
  test(`/who: ${COMMAND_BURST} at once, then ${COMMANDS_PER_SECOND} a second; every reply, in order; never dropped`, async () => {
    await using s = await testServer();
    using asker = await TimedMember.join(s.port, "asker");
    const count = COMMAND_BURST + 15;
    const sent = Date.now();
    // Distinct prefixes tell the replies apart.
    asker.socket.write(Array.from({ length: count }, (_, i) => `/who z${i}\n`).join(""));
    await until(() => asker.from("* 0 of ").length === count, "every reply", 10_000);
    const replies = asker.from("* 0 of ");
    expect(replies.map((l) => l.text)).toEqual(Array.from({ length: count }, (_, i) => `* 0 of 2 here start with z${i}`));
    expect((replies[COMMAND_BURST - 1]?.at ?? 0) - sent).toBeLessThan(300);
    const spreadMs = ((count - COMMAND_BURST) * 1000) / COMMANDS_PER_SECOND;
    expect((replies.at(-1)?.at ?? 0) - sent).toBeGreaterThanOrEqual(spreadMs - 10);
    expect(asker.closed).toBe(false);
  });

  test("2,000 /who from one member in a room of 300: the others' lines are not delayed", async () => {
    await using s = await testServer();
    using watcher = await TimedMember.join(s.port, "watcher");
    using speaker = await TimedMember.join(s.port, "speaker");
    using asker = await TimedMember.join(s.port, "asker");
    const crowd = await Promise.all(Array.from({ length: 300 }, () => testClient(s.port)));
    using _crowd = {
      [Symbol.dispose]: () => {
        for (const c of crowd) c.close();
      },
    };
    await until(() => crowd.every((c) => c.lines.length > 0), "every greeting", 10_000);
    await until(() => s.clients === 303, "everyone in");
    // The crowd's joins are announced after their grace (a few one by one, the rest as a summary): the room is quiet again before measuring.
    const joined = () =>
      watcher.from("* guest-").length +
      watcher.from("* ").reduce((sum, l) => sum + Number(/^\* (\d+) people joined$/.exec(l.text)?.[1] ?? 0), 0);
    await until(() => joined() === 300, "the crowd's joins", 10_000);
    const started = Date.now();
    asker.socket.write("/who\n".repeat(2000));
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const saidAt = Date.now();
      speaker.say(`line ${i}`);
      await until(() => watcher.has(`speaker: line ${i}`), `line ${i}`, 5000);
      delays.push(watcher.at(`speaker: line ${i}`) - saidAt);
      await Bun.sleep(50);
    }
    const elapsed = (Date.now() - started) / 1000;
    const answered = asker.from("* 304 here").length;

    expect(Math.max(...delays)).toBeLessThan(100);
    // The burst, then at most COMMANDS_PER_SECOND a second (one more for a timer's edge).
    expect(answered).toBeGreaterThanOrEqual(COMMAND_BURST);
    expect(answered).toBeLessThanOrEqual(COMMAND_BURST + Math.ceil(elapsed * COMMANDS_PER_SECOND) + 1);
    expect(asker.closed).toBe(false);
  });
});

describe("chat serve --rate-limit", () => {
  test("oneway from the command line: lines printed at the rate, in order", async () => {
    await using server = await cliServer(["--host", "127.0.0.1", "--mode", "oneway", "--rate-limit", "2/400ms"]);
    using c = await testClient(server.port);
    const sent = Date.now();
    await c.write("a\nb\nc\nd\ne\n");
    await server.waitOut(/: e\n/);
    // Two at once, then one every 200 ms.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(600 - 10);
    expect(
      server
        .stdout()
        .split("\n")
        .map((line) => line.slice(line.lastIndexOf(": ") + 2)),
    ).toEqual(["a", "b", "c", "d", "e", ""]);
  });

  test("echo: a warning that it does not apply", async () => {
    await using server = await cliServer(["--host", "127.0.0.1", "--mode", "echo", "--rate-limit", "1/1s"]);
    expect(server.stderr()).toContain("--rate-limit does not apply to --mode echo");
  });
});
