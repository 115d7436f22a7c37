/**
 * The client's line editor in a real terminal (tmux): lines arriving while a
 * draft of one, two or four rows is typed (ASCII, Hangul, emoji, combining
 * marks), at 40 and 120 columns, appear on the screen exactly once and in
 * order, and the draft stays whole, with the cursor at its end, and can still
 * be edited and sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BINARY, type Cli, cliServer, RawClient, until } from "./helpers.ts";
import { count, Tmux } from "./tmux.ts";

let server: Cli & { port: number };
const tmux = new Tmux();

beforeAll(async () => {
  server = await cliServer([]);
});
afterAll(async () => {
  tmux[Symbol.dispose]();
  server.kill("SIGKILL");
  await server.exited;
});

const strip = (text: string) => text.replace(/\s/g, "");

/** `unit` repeated until the draft (with its `> ` prompt) takes `rows` rows of `columns`. */
function draftOf(session: string, unit: string, rows: number, columns: number): string {
  let text = `${session}<`;
  const wanted = rows === 1 ? columns / 2 : (rows - 1) * columns + 6;
  while (Bun.stringWidth(`> ${text}>END`) < wanted) text += unit;
  return `${text}>${session}`;
}

async function joinAs(name: string, session: string, columns: number): Promise<RawClient> {
  const command = `env -u NO_COLOR USER=${name} TERM=xterm-256color '${BINARY}' connect 127.0.0.1 ${server.port}`;
  tmux.start(session, command, columns, 30);
  await tmux.waitScreen(session, (s) => s.trimEnd().endsWith(">"), "the prompt", 10_000);
  const peer = await RawClient.connect(server.port);
  await peer.write(`/nick ${session}-peer\n`);
  await peer.waitLine(`* you are now ${session}-peer`);
  await tmux.waitScreen(session, (s) => s.includes(`${session}-peer joined`), "the peer's join");
  return peer;
}

/** The draft is on the last rows, once, whole, and the cursor is just after it. */
function expectDraftIntact(session: string, draft: string): void {
  const all = tmux.screen(session, true);
  expect(count(all, `${session}<`)).toBe(1);
  expect(count(all, `>${session}`)).toBe(1);
  const rows = tmux.rows(session);
  const first = rows.findIndex((row) => row.startsWith(`> ${session}<`));
  expect(first).toBeGreaterThanOrEqual(0);
  expect(strip(rows.slice(first).join(""))).toBe(strip(`> ${draft}`));
  const cursor = tmux.cursor(session);
  const last = rows.at(-1) ?? "";
  expect(cursor.y).toBe(rows.length - 1);
  expect(cursor.x).toBe(Bun.stringWidth(last));
}

const SCRIPTS = {
  ascii: "lorem ipsum ",
  hangul: "가나다라마바사",
  emoji: "🙂🎉e\u0301x",
} as const;

const CASES = [40, 120]
  .flatMap((columns) =>
    ([1, 2, 4] as const).flatMap((rows) => (Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[]).map((script) => ({ columns, rows, script }))),
  )
  .map((c, i) => ({ ...c, session: `s${i}` }));

describe("lines arriving while a draft is typed", () => {
  test.each(CASES)("$columns columns, $rows-row $script draft", async ({ columns, rows, script, session }) => {
    const me = `${session}-me`;
    const peer = await joinAs(me, session, columns);
    const draft = draftOf(session, SCRIPTS[script], rows, columns);
    tmux.type(session, draft);
    await tmux.waitScreen(session, (s) => s.includes(`>${session}`), "the draft typed");

    // Every test has a room of its own in effect: the tokens carry the session's name.
    const t = (n: number) => `${session}-${n}`;
    const long = `${t(2)} ${"a long line that wraps on a narrow terminal ".repeat(3)}tail-${t(2)}`;
    // Three at once (one read), then three one by one.
    await peer.write(`${t(1)} short\n${long}\n${t(3)} 가나다 🙂 e\u0301\n`);
    await tmux.waitScreen(session, (s) => s.includes(t(3)), "the first three lines");
    for (const n of [4, 5, 6]) {
      await peer.write(`${t(n)} ${"한국어 ".repeat(n)}end-${t(n)}\n`);
      await tmux.waitScreen(session, (s) => s.includes(`end-${t(n)}`), `line ${n}`);
    }

    const all = tmux.screen(session, true);
    const at = [1, 2, 3, 4, 5, 6].map((n) => all.indexOf(t(n)));
    for (const [i, position] of at.entries()) {
      expect(position).toBeGreaterThan(i === 0 ? -1 : (at[i - 1] ?? 0));
      expect(count(all, ` ${t(i + 1)}`)).toBe(1);
    }
    expect(count(all, `tail-${t(2)}`)).toBe(1);
    expectDraftIntact(session, draft);

    tmux.keys(session, "End");
    tmux.type(session, " ok");
    tmux.keys(session, "Enter");
    await peer.waitLine(`${me}: ${draft} ok`);
    tmux.keys(session, "C-d");
    expect(await tmux.exited(session)).toBe(0);
    peer.close();
    tmux.kill(session);
  });
});

test("a resize in the middle: lines still appear once and the draft stays whole", async () => {
  const session = "resize";
  const peer = await joinAs("resizer", session, 120);
  const draft = draftOf(session, SCRIPTS.hangul, 2, 120);
  tmux.type(session, draft);
  await tmux.waitScreen(session, (s) => s.includes(`>${session}`), "the draft typed");
  await peer.write("before-resize\n");
  await tmux.waitScreen(session, (s) => s.includes("before-resize"), "a line before the resize");
  tmux.resize(session, 40, 30);
  await until(() => tmux.cursor(session).x < 40, "the narrower window");
  await peer.write("after-resize one\nafter-resize two\n");
  await tmux.waitScreen(session, (s) => s.includes("after-resize two"), "the lines after the resize");
  const all = tmux.screen(session, true);
  expect(count(all, "before-resize")).toBe(1);
  expect(count(all, "after-resize one")).toBe(1);
  expect(count(all, "after-resize two")).toBe(1);
  expectDraftIntact(session, draft);
  tmux.keys(session, "Enter");
  await peer.waitLine(`resizer: ${draft}`);
  tmux.keys(session, "C-d");
  expect(await tmux.exited(session)).toBe(0);
  peer.close();
  tmux.kill(session);
});
