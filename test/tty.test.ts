/**
 * The client in a real pseudo-terminal (tmux): a line that arrives while the
 * user types is printed above the prompt, the half-typed text survives, and is
 * then sent under the user's name.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CLI, type Cli, cliServer, RawClient, until } from "./helpers.ts";

const SOCKET = `chat-test-${process.pid}`;
const SESSION = "chat";

function tmux(...args: string[]): string {
  const result = Bun.spawnSync({ cmd: ["tmux", "-L", SOCKET, ...args], stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

const screen = (session = SESSION) => tmux("capture-pane", "-p", "-t", session);
const lastLine = (session = SESSION) => screen(session).trimEnd().split("\n").at(-1) ?? "";

let server: (Cli & { port: number }) | null = null;
// A session that outlives the tests', so the tmux server does not exit between them.
beforeAll(() => tmux("new-session", "-d", "-s", "keep", "sleep 120"));
afterAll(async () => {
  Bun.spawnSync({ cmd: ["tmux", "-L", SOCKET, "kill-server"], stderr: "ignore" });
  server?.kill("SIGKILL");
  await server?.exited;
});

test("typed-but-unsent text survives an incoming line, then goes out under the user's name", async () => {
  server = await cliServer([]);
  const bob = await RawClient.connect(server.port);
  await bob.write("/nick bob\n");
  await bob.waitLine("* you are now bob");

  const command = `env -u NO_COLOR USER=alice TERM=xterm-256color '${process.execPath}' '${CLI}' connect 127.0.0.1 ${server.port}`;
  tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "20", command);
  await until(() => screen().includes("you are now alice") && lastLine() === ">", `the prompt (screen: ${screen()})`, 10_000);
  await bob.waitLine("* alice joined");

  tmux("send-keys", "-t", SESSION, "-l", "half typed");
  await until(() => lastLine() === "> half typed", "the typed text");
  await bob.write("interrupting you\n");
  await until(() => /\d\d:\d\d:\d\d bob: interrupting you/.test(screen()), `the incoming line (screen: ${screen()})`);
  expect(lastLine()).toBe("> half typed");

  tmux("send-keys", "-t", SESSION, "-l", " and finished");
  tmux("send-keys", "-t", SESSION, "Enter");
  await bob.waitLine("alice: half typed and finished");
  await until(() => /\d\d:\d\d:\d\d alice: half typed and finished/.test(screen()), `own line as sent (screen: ${screen()})`);
  expect(screen()).not.toContain("> half typed and finished");

  tmux("send-keys", "-t", SESSION, "C-d");
  await bob.waitLine("* alice left");
  bob.close();
});

test("the server console in a terminal: status lines print above the prompt, which stays whole", async () => {
  const command = `env -u NO_COLOR TERM=xterm-256color '${process.execPath}' '${CLI}' serve --port 0 --host 127.0.0.1 --deny 127.0.0.1`;
  tmux("new-session", "-d", "-s", "status", "-x", "100", "-y", "20", command);
  const listening = await until(() => /listening on 127\.0\.0\.1:(\d+)/.exec(screen("status")) ?? undefined, "the listening line", 10_000);
  await until(() => lastLine("status") === ">", `the console prompt (screen: ${screen("status")})`);
  tmux("send-keys", "-t", "status", "-l", "half typed");
  await until(() => lastLine("status") === "> half typed", "the typed text");
  using refused = await RawClient.connect(Number(listening[1]));
  await refused.waitClosed();
  await until(
    () => /^refused 127\.0\.0\.1:\d+: not allowed$/m.test(screen("status")),
    `the status line on a line of its own (screen: ${screen("status")})`,
  );
  expect(lastLine("status")).toBe("> half typed");
  tmux("send-keys", "-t", "status", "C-c", "C-c");
});

test("the server console in a terminal: room lines print above the prompt, typed lines go to the room", async () => {
  const command = `env -u NO_COLOR TERM=xterm-256color '${process.execPath}' '${CLI}' serve --port 0 --host 127.0.0.1 --name host`;
  tmux("new-session", "-d", "-s", "console", "-x", "100", "-y", "20", command);
  const listening = await until(() => /listening on 127\.0\.0\.1:(\d+)/.exec(screen("console")) ?? undefined, "the listening line", 10_000);
  await until(() => lastLine("console") === ">", `the console prompt (screen: ${screen("console")})`);
  const carol = await RawClient.connect(Number(listening[1]));
  await carol.write("/nick carol\n");
  tmux("send-keys", "-t", "console", "-l", "welcome ca");
  await until(() => lastLine("console") === "> welcome ca", "the typed text");
  await carol.write("hello host\n");
  await until(() => /\d\d:\d\d:\d\d carol: hello host/.test(screen("console")), `carol's line (screen: ${screen("console")})`);
  expect(lastLine("console")).toBe("> welcome ca");
  tmux("send-keys", "-t", "console", "-l", "rol");
  tmux("send-keys", "-t", "console", "Enter");
  await carol.waitLine("host: welcome carol");
  await until(() => /\d\d:\d\d:\d\d host: welcome carol/.test(screen("console")), "the console's own line as sent");
  tmux("send-keys", "-t", "console", "C-c");
  await carol.waitLine("* server shutting down");
  await carol.waitClosed();
  carol.close();
});
