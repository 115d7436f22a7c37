/**
 * Discarded output costs nothing: with stdout /dev/null, `chat serve` writes
 * nothing for the conversation (seen from outside, in the bytes the process
 * passes to write(2): /proc/PID/io `wchar`), while --log still gets every
 * line. /dev/null is told by its device and inode numbers, not its name.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDevNull } from "../src/dev-null.ts";
import { testClient } from "./fixture.ts";
import { CLI, ROOT, until } from "./helpers.ts";

const HAS_PROC_IO = existsSync("/proc/self/io");
const LINES = 3000;
const LINE = `${"d".repeat(99)}`;
const PAYLOAD = `${LINE}\n`.repeat(LINES);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "chat-discard-"));
}

/** Opens `path`, asks isDevNull about the descriptor, closes it. */
function askAbout(path: string, flags = "r", devNull?: string): boolean {
  const fd = openSync(path, flags);
  try {
    return devNull === undefined ? isDevNull(fd) : isDevNull(fd, devNull);
  } finally {
    closeSync(fd);
  }
}

describe("isDevNull: /dev/null by its device and inode, not by its name", () => {
  const dir = tempDir();
  const file = join(dir, "null");
  writeFileSync(file, "");
  const link = join(dir, "link-to-dev-null");
  symlinkSync("/dev/null", link);
  const fifo = join(dir, "fifo");
  const madeFifo = Bun.spawnSync(["mkfifo", fifo]).exitCode === 0;

  const cases: { what: string; open: () => boolean; discard: boolean; skip?: boolean }[] = [
    { what: "/dev/null", open: () => askAbout("/dev/null", "w"), discard: true },
    { what: "a symlink to /dev/null", open: () => askAbout(link, "w"), discard: true },
    { what: "a regular file named null", open: () => askAbout(file, "a"), discard: false },
    { what: "/dev/null compared with a regular file", open: () => askAbout("/dev/null", "w", file), discard: false },
    {
      what: "/dev/zero (a character device, not /dev/null)",
      open: () => askAbout("/dev/zero", "w"),
      discard: false,
      skip: !existsSync("/dev/zero"),
    },
    // r+ opens a FIFO without waiting for a reader (Linux).
    { what: "a pipe (FIFO)", open: () => askAbout(fifo, "r+"), discard: false, skip: !madeFifo },
    { what: "a descriptor that is not open", open: () => isDevNull(987_654), discard: false },
  ];
  for (const c of cases) test.skipIf(c.skip === true)(c.what, () => expect(c.open()).toBe(c.discard));

  test("a process's real stdout: /dev/null, a regular file, a pipe", async () => {
    const probe = `import { isDevNull } from "${ROOT}src/dev-null.ts"; process.stderr.write(String(isDevNull(1)));`;
    const ask = async (redirect: string) => {
      const proc = Bun.spawn({ cmd: ["sh", "-c", `"$0" -e "$1" ${redirect}`, process.execPath, probe], stdout: "ignore", stderr: "pipe" });
      const [answer] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      return answer;
    };
    expect(await ask(">/dev/null")).toBe("true");
    expect(await ask(`>"${join(dir, "out.txt")}"`)).toBe("false");
    expect(await ask("| cat")).toBe("false");
  });
});

/** `chat serve` from source with its stdout sent to `target` (a path); `await using` kills it. */
async function serveTo(target: string, args: string[]) {
  const proc = Bun.spawn({
    cmd: [process.execPath, CLI, "serve", "--port", "0", "--host", "127.0.0.1", ...args],
    stdin: "ignore",
    stdout: Bun.file(target),
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const err = { text: "" };
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err.text += decoder.decode(chunk, { stream: true });
  })();
  const port = Number((await until(() => /listening on \S+:(\d+)/.exec(err.text) ?? undefined, "the listening line", 10_000))[1]);
  return {
    port,
    stderr: () => err.text,
    /** Bytes the server has passed to write(2) so far (sockets' sends are not counted). */
    written: () => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${proc.pid}/io`, "utf8"))?.[1]),
    async stop() {
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      await reading;
    },
    [Symbol.asyncDispose]: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** LINES lines through a server of `mode`, done when they are all through (echoed back, taken, relayed). */
async function traffic(mode: "echo" | "oneway" | "twoway", port: number): Promise<void> {
  if (mode === "twoway") {
    using receiver = await testClient(port);
    await receiver.waitLine(/^\* welcome/);
    using sender = await testClient(port);
    await sender.waitLine(/^\* welcome/);
    await sender.write(PAYLOAD);
    await until(() => receiver.lines.filter((l) => l.endsWith(`: ${LINE}`)).length === LINES, "every line relayed", 20_000);
    return;
  }
  using client = await testClient(port);
  await client.write(PAYLOAD);
  if (mode === "echo") await until(() => client.bytes.length === PAYLOAD.length, "the whole echo", 20_000);
  client.finish();
  await client.waitClosed(20_000);
  if (mode === "echo") expect(client.text).toBe(PAYLOAD);
}

/** Lines of a text (a file's) that carry one of the traffic's lines. */
function said(text: string): number {
  return text.split("\n").filter((l) => l.endsWith(`: ${LINE}`)).length;
}

describe.skipIf(!HAS_PROC_IO)("chat serve with stdout /dev/null", () => {
  for (const mode of ["echo", "oneway", "twoway"] as const) {
    test(`${mode}: nothing written for the conversation (a regular file gets every line)`, async () => {
      const dir = tempDir();
      try {
        // The control: printing to a regular file shows up in wchar.
        const file = join(dir, "stdout.txt");
        await using printing = await serveTo(file, ["--mode", mode]);
        const fileBefore = printing.written();
        await traffic(mode, printing.port);
        await until(() => said(readFileSync(file, "utf8")) === LINES, "every line in the file", 10_000);
        expect(printing.written() - fileBefore).toBeGreaterThanOrEqual(statSync(file).size - 1024);
        await printing.stop();

        await using discarding = await serveTo("/dev/null", ["--mode", mode]);
        const before = discarding.written();
        await traffic(mode, discarding.port);
        // Give a batched write (5 ms) time to have happened, were there one.
        await Bun.sleep(50);
        expect(discarding.written() - before).toBeLessThan(PAYLOAD.length / 20);
        if (mode !== "twoway") expect(discarding.stderr()).toMatch(/^127\.0\.0\.1:\d+ connected$[\s\S]*^127\.0\.0\.1:\d+ disconnected$/m);
        await discarding.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${mode}: --log still gets every line, and nothing else is written`, async () => {
      const dir = tempDir();
      try {
        const log = join(dir, "chat.log");
        await using s = await serveTo("/dev/null", ["--mode", mode, "--log", log, ...(mode === "twoway" ? ["--json"] : [])]);
        const before = s.written();
        await traffic(mode, s.port);
        await until(() => existsSync(log) && said(readFileSync(log, "utf8")) === LINES, "every line in the log", 10_000);
        await Bun.sleep(50);
        const logged = statSync(log).size;
        const written = s.written() - before;
        expect(written).toBeGreaterThanOrEqual(logged - 1024);
        expect(written).toBeLessThan(logged + PAYLOAD.length / 20);
        await s.stop();
        expect(readFileSync(log, "utf8")).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \S+: d{99}$/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
