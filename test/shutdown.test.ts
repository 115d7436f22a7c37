/**
 * Shutdown (issue 4): signals, the grace for queued output, exit codes, and
 * what a full stdout pipe has not taken yet; CLI processes, since signals and
 * exit codes of the server process are what is checked.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHUTDOWN_GRACE_MS } from "../src/server.ts";
import { testMember } from "./fixture.ts";
import { cliServer, runCli } from "./helpers.ts";

describe("shutdown", () => {
  test("SIGTERM: stops accepting, tells the room, flushes queues within the grace, clients see EOF, exit 0", async () => {
    await using s = await cliServer(["--host", "127.0.0.1"]);
    using reader = await testMember(s.port, "reader");
    using stuck = await testMember(s.port, "stuck");
    using talker = await testMember(s.port, "talker");
    await using cc = runCli(["connect", "127.0.0.1", String(s.port)]);
    await cc.waitOut(/^\* welcome/m);
    reader.socket.pause();
    stuck.socket.pause();
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"z".repeat(90)}`);
    await talker.write(`${lines.join("\n")}\n`);
    await s.waitOut(/talker: line 2999 /, 10_000);

    const signalled = Date.now();
    s.kill("SIGTERM");
    await s.waitErr(/shutting down/);
    await expect(Bun.connect({ hostname: "127.0.0.1", port: s.port, socket: { data() {}, error() {} } })).rejects.toThrow();
    reader.socket.resume();
    await reader.waitClosed(SHUTDOWN_GRACE_MS + 2000);
    const got = reader.lines.filter((l) => l.startsWith("talker: "));
    expect(got).toEqual(lines.map((l) => `talker: ${l}`));
    expect(reader.lines.at(-1)).toBe("* server shutting down");
    expect(await cc.exited).toBe(0);
    expect(cc.stdout()).toContain("* server shutting down");
    expect(await s.exited).toBe(0);
    // `stuck` never read: the grace is bounded.
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_GRACE_MS + 2000);
    await stuck.waitClosed();
  });

  test("800 members that take nothing: SIGTERM exits within the grace (each is cut once it has taken nothing for a while)", async () => {
    await using s = await cliServer(["--host", "127.0.0.1"]);
    const count = 800;
    await using py = Bun.spawn({
      cmd: ["python3", `${import.meta.dir}/peers/non_readers.py`, String(s.port), String(count)],
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    const connected = await py.stdout.getReader().read();
    expect(new TextDecoder().decode(connected.value).trim()).toBe(String(count));
    using reader = await testMember(s.port, "reader");
    using talker = await testMember(s.port, "talker");
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${"z".repeat(90)}`);
    await talker.write(`${lines.join("\n")}\n`);
    await s.waitOut(/talker: line 1999 /, 20_000);

    const signalled = Date.now();
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_GRACE_MS);
    // A member that reads still gets every line, then the notice, then EOF.
    await reader.waitClosed();
    expect(reader.lines.filter((l) => l.startsWith("talker: "))).toEqual(lines.map((l) => `talker: ${l}`));
    expect(reader.lines.at(-1)).toBe("* server shutting down");
  }, 30_000);

  test("a second SIGINT exits 130 at once", async () => {
    await using s = await cliServer(["--host", "127.0.0.1"]);
    using stuck = await testMember(s.port, "stuck");
    stuck.socket.pause();
    s.kill("SIGINT");
    await s.waitErr(/shutting down/);
    const second = Date.now();
    s.kill("SIGINT");
    expect(await s.exited).toBe(130);
    expect(Date.now() - second).toBeLessThan(1000);
  });

  test("what a full stdout pipe has not taken yet is written before exit", async () => {
    // Bun drops what a pipe has not taken when the process exits: StdoutWriter.drained waits for it.
    const dir = mkdtempSync(join(tmpdir(), "chat-drain-"));
    try {
      const script = join(dir, "write.ts");
      const output = new URL("../src/stdout.ts", import.meta.url).pathname;
      writeFileSync(
        script,
        `import { StdoutWriter } from ${JSON.stringify(output)};
const out = new StdoutWriter();
for (let i = 0; i < 20000; i++) out.text("${"z".repeat(99)}\\n");
await out.drained();
process.exit(0);
`,
      );
      // The reader starts half a second late, so the pipe is full when the writer asks to exit: that is the case tested.
      const cmd = ["sh", "-c", `"$0" "$1" | (sleep 0.5; exec wc -l)`, process.execPath, script];
      await using run = Bun.spawn({ cmd, stdout: "pipe" });
      expect((await new Response(run.stdout).text()).trim()).toBe("20000");
      expect(await run.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("chat connect exits 0 when an echo server goes away", async () => {
    await using s = await cliServer(["--mode", "echo", "--host", "127.0.0.1"]);
    await using cc = runCli(["connect", "127.0.0.1", String(s.port)]);
    await s.waitErr(/connected/);
    cc.write("ping\n");
    await cc.waitOut(/^ping$/m);
    s.kill("SIGTERM");
    expect(await cc.exited).toBe(0);
    expect(await s.exited).toBe(0);
    expect(cc.stderr()).toContain("disconnected");
  });
});
