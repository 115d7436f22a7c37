/**
 * `chat connect` end to end (issue 12), with the compiled binary: in a real
 * terminal (tmux) the bell for mentions and private messages, Tab completion,
 * the user's own actions, the keys, timestamps and history with its own times;
 * piped, the JSON events (`--json`) and the plain text a script sees.
 *
 * Tests that share the server use names and tokens of their own (the room's
 * history shows earlier tests' lines); tests that count lines get a server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { BINARY, type Cli, cliServer, RawClient, runCli, runToEnd, until } from "./helpers.ts";
import { count, Tmux } from "./tmux.ts";

type Server = Cli & { port: number };

const tmux = new Tmux();
const servers: Server[] = [];
const clis: Cli[] = [];
let shared: Server;

async function server(args: string[] = []): Promise<Server> {
  const s = await cliServer(args, { binary: true });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  shared = await server();
});
afterAll(async () => {
  tmux[Symbol.dispose]();
  for (const cli of [...clis, ...servers]) cli.kill("SIGKILL");
  await Promise.all([...clis, ...servers].map((cli) => cli.exited));
});

/** The exit code of a client whose input has ended, or a failure after 10 s. */
async function exitOf(cli: Cli): Promise<number> {
  let code: number | undefined;
  cli.exited.then((c) => {
    code = c;
  });
  return until(() => code, `the client to exit (stdout: ${JSON.stringify(cli.stdout().slice(-300))})`, 10_000);
}

const STAMP = /^\d\d:\d\d:\d\d /;
const ESCAPES = /[\x1b\x07\r]/;
/** Colours and cursor moves. */
const CSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * Starts the client in tmux session `session` as `name` and waits for its
 * name to be settled and the prompt drawn. `env` is put before the command
 * (NO_COLOR is unset unless it sets it). Its raw output is recorded (`tmux.output`).
 */
async function open(session: string, name: string, port: number, options: { flags?: string; env?: string } = {}): Promise<void> {
  const env = options.env ?? "-u NO_COLOR";
  const command = `env ${env} USER=${name} TERM=xterm-256color '${BINARY}' connect 127.0.0.1 ${port} ${options.flags ?? ""}`;
  tmux.start(session, command, 100, 30, true);
  await tmux.waitScreen(
    session,
    (s) => s.includes(`you are now ${name}`) && s.trimEnd().endsWith("\n>"),
    "the name and the prompt",
    10_000,
  );
}

/** Says `text` and waits until the room has handled it (the reply to a `/who` after it came back). */
async function say(c: RawClient, text: string): Promise<void> {
  const replies = () => c.lines.filter((line) => / here: /.test(line)).length;
  const before = replies();
  await c.write(`${text}\n/who\n`);
  await until(() => replies() > before, `the room to handle ${JSON.stringify(text)}`);
}

async function peer(port: number, name: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.write(`/nick ${name}\n`);
  await c.waitLine(`* you are now ${name}`);
  return c;
}

/** Waits until `text` is on the screen and in the recorded output (so every byte before it was recorded too). */
async function shown(session: string, text: string): Promise<void> {
  await tmux.waitScreen(session, (s) => s.includes(text), text);
  await until(() => tmux.output(session).replace(CSI, "").includes(text), `${text} in the recorded output`);
}

const bells = (session: string) => count(tmux.output(session), "\x07");

async function leave(session: string, c: RawClient, name: string): Promise<void> {
  tmux.keys(session, "C-d");
  expect(await tmux.exited(session)).toBe(0);
  await c.waitLine(`* ${name} left`);
  c.close();
  tmux.kill(session);
}

describe("the bell", () => {
  test("rings once for a line naming you and once for a private message; never for other lines or history", async () => {
    const me = "dora12";
    const other = await peer(shared.port, "bell-peer");
    await say(other, `${me} this was said before you came`);
    await open("bell", me, shared.port);
    // History: the line naming the user is replayed (and marked), but does not ring.
    await shown("bell", `bell-peer: ${me} this was said before you came`);
    expect(tmux.output("bell")).toContain(`\x1b[7m${me}\x1b[27m this was said`);
    expect(tmux.bell("bell")).toBe(false);
    expect(bells("bell")).toBe(0);

    // Not a word of its own, or someone else's name (names may hold `-` and `.`): no bell.
    await other.write(`a${me}, ${me}s, ${me}_x, ${me}-bot, x.${me}: not you\n`);
    await shown("bell", `x.${me}: not you`);
    const namesake = await peer(shared.port, `${me}-bot`);
    await shown("bell", `${me}-bot joined`);
    await namesake.write("/me waves\n");
    await shown("bell", `** ${me}-bot waves`);
    namesake.close();
    expect(tmux.bell("bell")).toBe(false);
    expect(bells("bell")).toBe(0);

    // Named, whatever the case, next to punctuation, even twice: one bell, right after that line.
    await other.write(`hey ${me.toUpperCase()}, look at D${me.slice(1)}.\n`);
    await shown("bell", `hey ${me.toUpperCase()}, look at D${me.slice(1)}.`);
    await until(() => tmux.bell("bell"), "the bell flag");
    expect(bells("bell")).toBe(1);
    const raw = tmux.output("bell");
    expect(raw.indexOf("\x07")).toBeGreaterThan(raw.indexOf(", look at"));

    tmux.clearBell("bell");
    expect(tmux.bell("bell")).toBe(false);
    await other.write(`/msg ${me} psst-12\n`);
    await shown("bell", `bell-peer -> ${me}: psst-12`);
    await until(() => tmux.bell("bell"), "the bell flag for the private message");
    expect(bells("bell")).toBe(2);

    tmux.clearBell("bell");
    await other.write(`/me pokes ${me}\n`);
    await shown("bell", `* bell-peer pokes ${me}`);
    await until(() => tmux.bell("bell"), "the bell flag for an action naming the user");
    expect(bells("bell")).toBe(3);

    // The user's own line naming themself, and their own private message, do not ring.
    tmux.clearBell("bell");
    tmux.type("bell", `I am ${me}`);
    tmux.keys("bell", "Enter");
    await other.waitLine(`${me}: I am ${me}`);
    tmux.type("bell", "/msg bell-peer back-12");
    tmux.keys("bell", "Enter");
    await other.waitLine(`${me} -> bell-peer: back-12`);
    await shown("bell", `${me} -> bell-peer: back-12`);
    expect(tmux.bell("bell")).toBe(false);
    expect(bells("bell")).toBe(3);
    await leave("bell", other, me);
  });

  test("--no-bell never rings", async () => {
    const me = "quiet13";
    const other = await peer(shared.port, "nobell-peer");
    await open("nobell", me, shared.port, { flags: "--no-bell" });
    await other.write(`hey ${me}\n/msg ${me} psst-13\n/me pokes ${me}\nlast-13\n`);
    await shown("nobell", "last-13");
    expect(tmux.screen("nobell")).toContain(`nobell-peer -> ${me}: psst-13`);
    expect(tmux.bell("nobell")).toBe(false);
    expect(bells("nobell")).toBe(0);
    await leave("nobell", other, me);
  });
});

describe("Tab completion", () => {
  test("names from the room (members on joining, joins, renames), /commands, and not those who left", async () => {
    const s = await server();
    const alice = await peer(s.port, "alice");
    await open("tab", "zed", s.port);

    // alice was in the room's member list when zed joined.
    tmux.type("tab", "/msg al");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> /msg alice", "the completed name");
    expect(tmux.cursor("tab").x).toBe("> /msg alice ".length);
    tmux.type("tab", "psst");
    tmux.keys("tab", "Enter");
    await alice.waitLine("zed -> alice: psst");

    // A join (albert) and a rename (bo → alma) are offered; the old name is not.
    const albert = await peer(s.port, "albert");
    await shown("tab", "albert joined");
    const bo = await peer(s.port, "bo");
    await shown("tab", "bo joined");
    await bo.write("/nick alma\n");
    await shown("tab", "bo is now alma");
    tmux.type("tab", "al");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> albert:", "the first name at the start of a line");
    expect(tmux.cursor("tab").x).toBe("> albert: ".length);
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> alice:", "the second name");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> alma:", "the renamed member");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> albert:", "round again");
    tmux.keys("tab", "C-u");
    tmux.type("tab", "b");
    tmux.keys("tab", "Tab");
    tmux.type("tab", "!");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> b!", "no name for the old name bo");

    // alice leaves: no longer offered.
    tmux.keys("tab", "C-u");
    alice.close();
    await shown("tab", "alice left");
    tmux.type("tab", "hi al");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> hi albert", "a name after other words");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> hi alma", "the other name");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> hi albert", "only the two left");

    // Commands at the start of a line, cycling.
    tmux.keys("tab", "C-u");
    tmux.type("tab", "/m");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> /me", "/me first");
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> /msg", "then /msg");
    expect(tmux.cursor("tab").x).toBe("> /msg ".length);
    tmux.keys("tab", "Tab");
    await tmux.waitScreen("tab", () => tmux.lastRow("tab") === "> /me", "and round");
    tmux.keys("tab", "C-u");
    bo.close();
    await leave("tab", albert, "zed");
  });
});

describe("the user's own actions", () => {
  test("/me shows `** NAME yawns` once with the prompt back; /who shows the reply above a redrawn prompt", async () => {
    const me = "yawner14";
    const other = await peer(shared.port, "own-peer");
    await open("own", me, shared.port);
    tmux.type("own", "/me yawns");
    tmux.keys("own", "Enter");
    // The wire form (the spec's) is `** NAME ACTION`, and the user's screen shows the same.
    await other.waitLine(`** ${me} yawns`);
    const screen = await tmux.waitScreen("own", (s) => s.includes(`** ${me} yawns`), "the action");
    expect(count(screen, `** ${me} yawns`)).toBe(1);
    expect(screen.split("\n").find((row) => row.includes(`${me} yawns`))).toMatch(new RegExp(`${STAMP.source}\\*\\* ${me} yawns$`));
    expect(tmux.lastRow("own")).toBe(">");

    tmux.type("own", "/who");
    tmux.keys("own", "Enter");
    await tmux.waitScreen("own", (s) => / here: .*own-peer/.test(s), "the /who reply");
    const rows = tmux.rows("own");
    expect(rows.at(-2)).toMatch(new RegExp(`${STAMP.source}\\* \\d+ here: .*${me}`));
    expect(rows.at(-1)).toBe(">");
    expect(tmux.cursor("own")).toEqual({ x: 2, y: rows.length - 1 });

    // However the command is typed, the user's screen shows what the room sees.
    tmux.type("own", "/ME   stretches");
    tmux.keys("own", "Enter");
    await other.waitLine(`** ${me} stretches`);
    await tmux.waitScreen("own", (s) => new RegExp(`${STAMP.source}\\*\\* ${me} stretches$`, "m").test(s), "the action typed in capitals");
    tmux.type("own", "/me   ");
    tmux.keys("own", "Enter");
    await tmux.waitScreen("own", (s) => s.includes("! usage: /me ACTION"), "the usage error");
    expect(tmux.rows("own").filter((row) => row.includes(`** ${me} `))).toHaveLength(2);
    await leave("own", other, me);
  });
});

describe("keys", () => {
  test("Ctrl+C clears a half-typed line and stays connected; up-arrow recalls; Ctrl+C on an empty line leaves", async () => {
    const me = "keys15";
    const other = await peer(shared.port, "keys-peer");
    await open("keys", me, shared.port);
    tmux.type("keys", "half typed");
    await tmux.waitScreen("keys", () => tmux.lastRow("keys") === "> half typed", "the draft");
    tmux.keys("keys", "C-c");
    await tmux.waitScreen("keys", () => tmux.lastRow("keys") === ">", "the draft cleared");
    await other.write("still-here-15\n");
    await shown("keys", "keys-peer: still-here-15");
    tmux.type("keys", "first-15");
    tmux.keys("keys", "Enter");
    await other.waitLine(`${me}: first-15`);
    tmux.keys("keys", "Up");
    await tmux.waitScreen("keys", () => tmux.lastRow("keys") === "> first-15", "the recalled line");
    tmux.type("keys", " again");
    tmux.keys("keys", "Enter");
    await other.waitLine(`${me}: first-15 again`);
    expect(other.lines.filter((line) => line.includes("half typed"))).toEqual([]);
    tmux.keys("keys", "C-c");
    expect(await tmux.exited("keys")).toBe(0);
    await other.waitLine(`* ${me} left`);
    other.close();
    tmux.kill("keys");
  });

  test("Ctrl+D on an empty line leaves; with a draft it does not", async () => {
    const me = "ctrld16";
    const other = await peer(shared.port, "ctrld-peer");
    await open("ctrld", me, shared.port);
    tmux.type("ctrld", "ab");
    tmux.keys("ctrld", "Left", "C-d");
    await tmux.waitScreen("ctrld", () => tmux.lastRow("ctrld") === "> a", "the character under the cursor deleted");
    tmux.keys("ctrld", "C-u");
    await tmux.waitScreen("ctrld", () => tmux.lastRow("ctrld") === ">", "the empty draft");
    await leave("ctrld", other, me);
  });
});

describe("timestamps", () => {
  test("on a terminal every line has HH:MM:SS, also with NO_COLOR=1 (and then no colour)", async () => {
    const me = "stamps17";
    const other = await peer(shared.port, "stamps-peer");
    await open("stamps", me, shared.port, { env: "NO_COLOR=1" });
    await other.write("stamped-17\n");
    await shown("stamps", "stamps-peer: stamped-17");
    const rows = tmux.rows("stamps");
    const from = rows.findIndex((row) => row.includes("welcome, you are"));
    expect(from).toBeGreaterThan(0);
    // (Continuation rows of a wrapped line are indented past the time.)
    for (const row of rows.slice(from, -1)) expect(row).toMatch(/^(\d\d:\d\d:\d\d | {9}\S)/);
    expect(rows[from]).toMatch(STAMP);
    expect(rows.find((row) => row.includes("stamped-17"))).toMatch(new RegExp(`${STAMP.source}stamps-peer: stamped-17$`));
    expect(tmux.output("stamps")).not.toMatch(/\x1b\[[0-9;]*m/);
    await leave("stamps", other, me);
  });

  test("--no-timestamps: no times", async () => {
    const me = "nostamps18";
    const other = await peer(shared.port, "nostamps-peer");
    await open("nostamps", me, shared.port, { flags: "--no-timestamps" });
    await other.write("plain-18\n");
    await shown("nostamps", "nostamps-peer: plain-18");
    const rows = tmux.rows("nostamps");
    expect(rows).toContain("nostamps-peer: plain-18");
    expect(rows).toContain(`* you are now ${me}`);
    expect(rows.filter((row) => /\d\d:\d\d:\d\d/.test(row))).toEqual([]);
    await leave("nostamps", other, me);
  });
});

/** `HH:MM:SS` of every second from `from` to `to` (ms), as the client shows local times. */
function secondsBetween(from: number, to: number): string[] {
  const out: string[] = [];
  for (let s = Math.floor(from / 1000); s <= Math.floor(to / 1000); s++) out.push(new Date(s * 1000).toTimeString().slice(0, 8));
  return out;
}

/** Waits until the wall clock is past the second `at` falls in, and a little more. */
async function nextSecond(at: number): Promise<void> {
  const past = (Math.floor(at / 1000) + 1) * 1000 + 100;
  await until(() => Date.now() >= past, "the next second");
}

const objects = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

describe("history with its own times", () => {
  test("in a terminal: said earlier, shown with when it was said, after a `── N lines said before you came ──` separator", async () => {
    const s = await server();
    const teller = await peer(s.port, "teller");
    const watcher = await peer(s.port, "watcher");
    const before = Date.now();
    await teller.write("once upon a time\nthe end\n");
    await watcher.waitLine("teller: the end");
    const after = Date.now();
    const said = secondsBetween(before, after);
    await nextSecond(after);

    await open("history", "late19", s.port);
    const rows = tmux.rows("history");
    const at = rows.findIndex((row) => row.endsWith("── 2 lines said before you came ──"));
    expect(at).toBeGreaterThan(0);
    expect(rows[at - 1]).toMatch(/^\d\d:\d\d:\d\d \* welcome, you are guest-\d+/);
    const first = rows[at + 1] ?? "";
    const second = rows[at + 2] ?? "";
    expect(first).toMatch(/^\d\d:\d\d:\d\d teller: once upon a time$/);
    expect(second).toMatch(/^\d\d:\d\d:\d\d teller: the end$/);
    expect(said).toContain(first.slice(0, 8));
    expect(said).toContain(second.slice(0, 8));
    // The join's own lines have the time of the join.
    expect(said).not.toContain((rows[at] ?? "").slice(0, 8));
    expect(said).not.toContain((rows[at + 3] ?? "").slice(0, 8));
    expect(rows[at + 3]).toMatch(/you are now late19$/);
    // The separator is gray throughout (its time's colour does not end the line's).
    expect(tmux.output("history")).toMatch(/\x1b\[90m\d\d:\d\d:\d\d ── 2 lines said before you came ──\x1b\[39m/);
    await leave("history", teller, "late19");
    watcher.close();
  });

  test("--json: the replayed line has its original ts and id, and history: true", async () => {
    const s = await server();
    const teller = await peer(s.port, "teller");
    const live = runCli(["connect", "127.0.0.1", String(s.port), "--json", "--name", "live"], { binary: true });
    clis.push(live);
    await live.waitOut(/you are now live/);
    await teller.write("remember-20\n");
    await live.waitOut(/remember-20/);
    const original = objects(live.stdout()).find((o) => o.text === "remember-20");
    // (A copy: bun's toMatchObject writes the asymmetric matchers into the object it is given.)
    expect({ ...original }).toMatchObject({ type: "message", from: "teller", id: expect.any(String), ts: expect.any(String) });
    expect(original.history).toBeUndefined();
    await nextSecond(Date.parse(original.ts));

    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--json", "--name", "late20"], "", { binary: true });
    expect(r.code).toBe(0);
    const seen = objects(r.stdout);
    const replayed = seen.filter((o) => o.text === "remember-20");
    expect(replayed).toEqual([{ ts: original.ts, type: "message", id: original.id, from: "teller", text: "remember-20", history: true }]);
    const welcome = seen.find((o) => o.kind === "welcome");
    expect(Date.parse(welcome.ts)).toBeGreaterThan(Date.parse(original.ts) + 100);
    expect(seen.filter((o) => o.type === "ready")).toEqual([]);
    live.endInput();
    expect(await exitOf(live)).toBe(0);
    teller.close();
  });
});

describe("--json notices", () => {
  test("/me and renames carry from (and to)", async () => {
    const watcher = runCli(["connect", "127.0.0.1", String(shared.port), "--json", "--name", "watch21"], { binary: true });
    clis.push(watcher);
    await watcher.waitOut(/you are now watch21/);
    const actor = await peer(shared.port, "actor21");
    await actor.write("/me waves-21\n/nick actor21b\n");
    await watcher.waitOut(/actor21 is now actor21b/);
    watcher.endInput();
    expect(await exitOf(watcher)).toBe(0);
    const seen = objects(watcher.stdout());
    for (const o of seen) expect(o.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(seen).toContainEqual(
      expect.objectContaining({ type: "notice", kind: "action", from: "actor21", text: "actor21 waves-21", id: expect.any(String) }),
    );
    expect(seen).toContainEqual(
      expect.objectContaining({ type: "notice", kind: "rename", from: "actor21", to: "actor21b", text: "actor21 is now actor21b" }),
    );
    expect(seen).toContainEqual(expect.objectContaining({ type: "notice", kind: "rename", to: "watch21", text: "you are now watch21" }));
    actor.close();
  });
});

describe("piped client in a room", () => {
  test("stdout: the greeting, the history as NAME: TEXT, then notices; plain text", async () => {
    const s = await server();
    const teller = await peer(s.port, "teller");
    await say(teller, "story one\nstory two");
    const other = await peer(s.port, "listener");
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "piper"], "hi\n", { binary: true });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ESCAPES);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^\* welcome, you are guest-\d+ \(\d+ others here; \/nick NAME to rename, \/help for commands\)$/);
    expect(lines.slice(1)).toEqual(["teller: story one", "teller: story two", "* you are now piper", ""]);
    await other.waitLine("* piper left");
    expect(other.lines.filter((line) => line.endsWith(": hi"))).toEqual(["piper: hi"]);
    teller.close();
    other.close();
  });

  test("quiet posting (stdout to /dev/null): exit 0, the line delivered once", async () => {
    const other = await peer(shared.port, "quiet-listener");
    const script = `printf 'posted-23\\n' | '${BINARY}' connect 127.0.0.1 ${shared.port} --name poster23 >/dev/null`;
    const proc = spawn({ cmd: ["sh", "-c", script], stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "" });
    expect(stderr).toMatch(/^connected to 127\.0\.0\.1:\d+\ndisconnected\n$/);
    await other.waitLine("* poster23 left");
    expect(other.lines.filter((line) => line.includes("posted-23"))).toEqual(["poster23: posted-23"]);
    other.close();
  });
});
