/**
 * The client in a real pseudo-terminal (tmux): a line that arrives while the
 * user types is printed above the prompt, the half-typed text survives, and is
 * then sent under the user's name.
 */
import { afterAll, expect, test } from "bun:test";
import { CLI, type Cli, cliServer, RawClient, until } from "./helpers.ts";

const SOCKET = `chat-test-${process.pid}`;
const SESSION = "chat";

function tmux(...args: string[]): string {
  const result = Bun.spawnSync({ cmd: ["tmux", "-L", SOCKET, ...args], stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

const screen = () => tmux("capture-pane", "-p", "-t", SESSION);
const lastLine = () => screen().trimEnd().split("\n").at(-1) ?? "";

let server: (Cli & { port: number }) | null = null;
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
