/** End-to-end: the CLI as a user runs it (from source, and the compiled binary), exit codes and both streams. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { version } from "../package.json";
import { testClient } from "./fixture.ts";
import { CLI, cliServer, runCli, runToEnd, until } from "./helpers.ts";

describe("usage", () => {
  const usageErrors: [string[], RegExp][] = [
    [["serve", "--bogus"], /^error: unknown option --bogus$/m],
    [["serve", "--port", "70000"], /^error: invalid --port: 70000/m],
    [["serve", "--port", "abc"], /^error: invalid --port: abc/m],
    [["serve", "--mode", "chatty"], /^error: invalid --mode: chatty \(expected twoway, echo, oneway\)$/m],
    [["serve", "--idle-timeout", "soon"], /^error: invalid --idle-timeout: soon/m],
    [["serve", "--rate-limit", "5"], /^error: invalid --rate-limit: 5 \(expected lines per time like 5\/1s, 100\/1m; 0 = no limit\)$/m],
    [["serve", "--rate-limit=5/0s"], /^error: invalid --rate-limit: 5\/0s /m],
    [["serve", "--allow", "300.0.0.0/8"], /^error: invalid --allow: 300.0.0.0\/8/m],
    [["serve", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], /^error: --tls-cert: no such file: \/nonexistent.pem$/m],
    [["serve", "--name", "two words"], /^error: invalid --name/m],
    // Found in use: a Korean name was refused with "only letters", which it is; the rule is ASCII letters, and the error says so.
    [["connect", "--name=민수", "127.0.0.1", "1"], /^error: invalid --name: a name may have only ASCII letters, digits/m],
    [["serve", "--motd", "@/nonexistent.txt"], /^error: --motd: no such file: \/nonexistent.txt$/m],
    [["serve", "--mode", "echo", "--motd", "hi"], /^error: --motd is for a room \(--mode twoway\), not --mode echo$/m],
    [["serve", "--mode", "oneway", "--open-topic"], /^error: --open-topic is for a room \(--mode twoway\), not --mode oneway$/m],
    [["connect", "--port"], /^error: option --port needs a value|^error: unknown option --port/m],
    [["connect", "localhost", "99999"], /^error: invalid port: 99999/m],
    [["connect", "--ca", "/nonexistent.pem"], /^error: --ca: no such file/m],
    [["frobnicate"], /^error: unknown command frobnicate$/m],
  ];
  for (const [args, message] of usageErrors) {
    test(`chat ${args.join(" ")} exits 2`, async () => {
      const r = await runToEnd(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^usage: chat/m);
      expect(r.stdout).toBe("");
    });
  }

  test("--version prints the package version", async () => {
    const r = await runToEnd(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  test("--help lists every option with defaults and examples, without colour when piped", async () => {
    const serve = await runToEnd(["serve", "--help"], "", { env: { NO_COLOR: "" } });
    expect(serve.code).toBe(0);
    for (const flag of [
      "--port",
      "--host",
      "--mode",
      "--name",
      "--history",
      "--motd",
      "--open-topic",
      "--max-clients",
      "--max-line",
      "--max-per-address",
      "--idle-timeout",
      "--rate-limit",
      "--allow",
      "--deny",
      "--log",
      "--log-max",
      "--tls-cert",
      "--unix",
      "--json",
      "--quiet",
    ]) {
      expect(serve.stdout).toContain(flag);
    }
    expect(serve.stdout).toContain("(default: 5000)");
    expect(serve.stdout).toContain("EXAMPLES");
    expect(serve.stdout).not.toContain("\x1b[");
    const connect = await runToEnd(["connect", "--help"]);
    expect(connect.stdout).toContain("--timeout");
    expect(connect.stdout).toContain("chat connect");
    const top = await runToEnd(["--help"]);
    expect(top.stdout).toContain("serve");
    expect(top.stdout).toContain("connect");
  });
});

describe("runtime failures", () => {
  test("cannot connect: one clear line, exit 1, promptly", async () => {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = s.port;
    s.stop(true);
    const started = Date.now();
    const r = await runToEnd(["connect", "127.0.0.1", String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot connect to 127.0.0.1:${port}: connection refused\n`);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("connection lost by error: a line on stderr, exit 1", async () => {
    const py = Bun.spawn({ cmd: ["python3", `${import.meta.dir}/peers/reset_server.py`], stdout: "pipe" });
    const reader = py.stdout.getReader();
    let first = "";
    while (!first.includes("\n")) first += new TextDecoder().decode((await reader.read()).value);
    await using client = runCli(["connect", "127.0.0.1", first.trim()]);
    await client.waitOut(/about to reset/);
    client.write("poke\n");
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toMatch(/^error: connection lost: connection reset by peer$/m);
    expect(await py.exited).toBe(0);
  });

  test("port in use: one clear line, exit 1", async () => {
    await using s = await cliServer(["--mode", "echo", "--host", "127.0.0.1"]);
    const r = await runToEnd(["serve", "--host", "127.0.0.1", "--port", String(s.port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: cannot listen on 127.0.0.1:${s.port}: address already in use \\(.*--port 0.*\\)\n$`));
  });
});

describe("echo end to end", () => {
  test("the first stderr line is the listening line; printf | chat connect prints exactly the input", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    expect(s.stderr().split("\n")[0]).toBe(`listening on [::]:${s.port} (mode echo)`);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "a\nb\n");
    expect(r).toMatchObject({ code: 0, stdout: "a\nb\n" });
    expect(r.stderr).toBe(`connected to 127.0.0.1:${s.port}\ndisconnected\n`);
    await s.waitOut(/^127\.0\.0\.1:\d+: b$/m);
  });

  test("seq 1 200000 comes back identical", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const input = `${Array.from({ length: 200_000 }, (_, i) => i + 1).join("\n")}\n`;
    const r = await runToEnd(["connect", `127.0.0.1:${s.port}`], input, { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(r.stdout === input).toBe(true);
  });

  test("1 MiB of random binary through chat connect comes back byte-exact", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const input = crypto.getRandomValues(new Uint8Array(1 << 16));
    const all = new Uint8Array(1 << 20);
    for (let i = 0; i < 16; i++) all.set(i % 2 ? input : input.map((b) => b ^ i), i * input.length);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--quiet"], all);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(Buffer.compare(r.bytes, all)).toBe(0);
  });

  test("chat connect > FILE: 1 MiB of random binary lands in the file byte-exact", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const all = crypto.getRandomValues(new Uint8Array(1 << 16));
    const input = Buffer.concat(Array.from({ length: 16 }, (_, i) => all.map((b) => b ^ i)));
    const file = join(mkdtempSync(join(tmpdir(), "chat-file-")), "echo.bin");
    const proc = Bun.spawn({
      cmd: [process.execPath, CLI, "connect", "127.0.0.1", String(s.port), "--quiet"],
      stdin: input,
      stdout: Bun.file(file),
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    clearTimeout(timer);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const got = readFileSync(file);
    expect(got.length).toBe(input.length);
    expect(got.equals(input)).toBe(true);
  });

  test("a closed stdout pipe (| head -1) ends the client quietly", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const proc = Bun.spawn({
      cmd: [
        "sh",
        "-c",
        `seq 1 100000 | "${process.execPath}" "${CLI}" connect 127.0.0.1 ${s.port} 2>err.txt | head -1; cat err.txt; rm -f err.txt`,
      ],
      cwd: mkdtempSync(join(tmpdir(), "chat-head-")),
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    const [first, ...rest] = out.split("\n");
    expect(first).toBe("1");
    expect(rest.join("\n")).not.toMatch(/error|EPIPE|at /i);
  });

  test("the compiled binary serves and connects with an empty environment", async () => {
    await using s = await cliServer(["--mode", "echo"], { binary: true });
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "from the binary\n", { binary: true, env: {} });
    expect(r).toMatchObject({ code: 0, stdout: "from the binary\n" });
    const bare = Bun.spawnSync({ cmd: [`${import.meta.dir}/../dist/chat`, "--version"], env: {} });
    expect(bare.stdout.toString()).toBe(`${version}\n`);
  });
});

describe("oneway end to end", () => {
  test("prints PEER: TEXT on stdout, status on stderr, sends nothing", async () => {
    await using s = await cliServer(["--mode", "oneway"]);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "one\ntwo\n");
    expect(r).toMatchObject({ code: 0, stdout: "" });
    await s.waitOut(/: two\n/);
    expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: one\n127\.0\.0\.1:\d+: two\n$/);
    await s.waitErr(/disconnected/);
    expect(s.stderr()).toMatch(/127\.0\.0\.1:\d+ connected/);
  });

  test("--json on the server", async () => {
    await using s = await cliServer(["--mode", "oneway", "--json"]);
    await runToEnd(["connect", "127.0.0.1", String(s.port)], "hi\n");
    await s.waitOut(/"type":"leave"/);
    const objects = s
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objects.map((o) => o.type)).toEqual(["join", "message", "leave"]);
    expect(objects[1]).toMatchObject({ type: "message", text: "hi" });
    expect(objects[1].from).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const o of objects) expect(Number.isNaN(Date.parse(o.ts))).toBe(false);
  });

  test("stdout a regular file: every line lands whole and in order, text and hostile bytes alike", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-out-"));
    const file = join(dir, "out.txt");
    const proc = Bun.spawn({
      cmd: [process.execPath, CLI, "serve", "--port", "0", "--mode", "oneway"],
      stdout: Bun.file(file),
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    try {
      let err = "";
      const reading = (async () => {
        for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
      })();
      const port = Number((await until(() => err.match(/listening on \S+:(\d+)/) ?? undefined, "listening"))[1]);
      using text = await testClient(port);
      using hostile = await testClient(port);
      const plain = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"abc\t".repeat(i % 30)}`);
      const sending = (async () => {
        // Odd-sized writes: lines cross reads at every offset.
        const all = new TextEncoder().encode(`${plain.join("\r\n")}\r\n`);
        for (let at = 0; at < all.length; at += 7919) await text.write(all.subarray(at, at + 7919));
      })();
      for (let i = 0; i < 200; i++) await hostile.write(Buffer.concat([Buffer.from(`bad ${i} \x1b[31mred\x07`), Buffer.from([0xff, 10])]));
      await sending;
      text.finish();
      hostile.finish();
      await until(() => (err.match(/disconnected/g) ?? []).length === 2, "both clients to leave", 20_000);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      await reading;
      const lines = readFileSync(file, "utf8").split("\n");
      expect(lines.pop()).toBe("");
      // Two peers, each line whole behind its own PEER prefix.
      const byPeer = new Map<string, string[]>();
      for (const line of lines) {
        const [, peer = "", rest = ""] = line.match(/^(127\.0\.0\.1:\d+): (.*)$/s) ?? [];
        const list = byPeer.get(peer);
        if (list) list.push(rest);
        else byPeer.set(peer, [rest]);
      }
      const [first, second] = [...byPeer.values()];
      const [mine, theirs] = first?.[0] === plain[0] ? [first, second] : [second, first];
      expect(byPeer.size).toBe(2);
      expect(byPeer.has("")).toBe(false);
      expect(mine).toEqual(plain);
      expect(theirs).toEqual(Array.from({ length: 200 }, (_, i) => `bad ${i} ^[[31mred^G\uFFFD`));
      expect(lines.length).toBe(20_200);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("--quiet silences status; SIGTERM exits 0", async () => {
    await using s = await cliServer(["--mode", "oneway", "--quiet"]);
    expect(s.stderr()).toContain("listening on");
    await runToEnd(["connect", "127.0.0.1", String(s.port)], "x\n");
    await s.waitOut(/: x\n/);
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(s.stderr()).not.toContain("connected");
  });
});

describe("twoway end to end", () => {
  test("a name the console banned: chat connect --name from a pipe sends nothing, says why, exits 1", async () => {
    await using s = await cliServer([]);
    s.write("/ban mallory 1h spam\n");
    await s.waitOut(/\* mallory is banned until .* UTC: spam\n/);
    using watcher = await testClient(s.port);
    await watcher.waitLine(/^\* welcome/);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "mallory"], "should not be said\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: the name mallory is banned until .* UTC: spam/);
    await watcher.write("/who\n");
    await watcher.waitLine(/^\* \d+ here/);
    expect(watcher.lines.some((l) => l.includes("should not be said"))).toBe(false);
  });

  test("--motd @FILE: each newcomer gets its lines after the greeting, made safe; the topic the console sets follows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-motd-"));
    const file = join(dir, "motd.txt");
    await Bun.write(file, "welcome to ops\r\nrules: be kind \x1b[31m\n\n");
    await using s = await cliServer(["--motd", `@${file}`]);
    s.write("/topic deploy at 3\n");
    await s.waitOut(/\* server set the topic: deploy at 3\n/);
    using c = await testClient(s.port);
    await c.waitLine("* topic (set by server): deploy at 3");
    expect(c.lines.slice(1, 4)).toEqual(["* welcome to ops", "* rules: be kind ^[[31m", "* topic (set by server): deploy at 3"]);
  });

  test("printf 'hi' | chat connect --name alice: the others receive exactly `alice: hi`", async () => {
    await using s = await cliServer([]);
    using bob = await testClient(s.port);
    await bob.waitLine(/^\* welcome/);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "alice"], "hi\n");
    expect(r.code).toBe(0);
    await bob.waitLine("* alice left");
    expect(bob.lines.slice(1)).toEqual(["* alice joined", "alice: hi", "* alice left"]);
    await s.waitOut(/^alice: hi$/m);
    bob.close();
  });

  test("the same command against an echo server prints exactly hi and sends nothing extra", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "alice"], "hi\n");
    expect(r).toMatchObject({ code: 0, stdout: "hi\n" });
    await s.waitOut(/: hi\n/);
    expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: hi\n$/);
  });

  test("--name taken, piped: nothing is sent and the client exits 1", async () => {
    await using s = await cliServer([]);
    using first = await testClient(s.port);
    await first.write("/nick alice\n");
    await first.waitLine("* you are now alice");
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "Alice"], "hello\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("name Alice is taken");
    // Its leaving is the last the room hears of it: nothing it had to say came before.
    await first.waitLine(/^\* guest-\d+ left$/);
    expect(first.lines.filter((line) => line.includes("hello"))).toEqual([]);
    first.close();
  });

  test("the console participates both ways through stdin; end of stdin does not stop the server", async () => {
    await using s = await cliServer(["--name", "host"]);
    using c = await testClient(s.port);
    await c.write("/nick carol\nhello host\n");
    await s.waitOut(/^carol: hello host$/m);
    s.write("hello carol\n");
    await c.waitLine("host: hello carol");
    s.endInput();
    // No event tells that the server has read the end of its stdin: a moment for it to, then it must still serve.
    await Bun.sleep(200);
    await c.write("still here\n");
    await s.waitOut(/^carol: still here$/m);
    expect(s.proc.exitCode).toBe(null);
    c.close();
  });

  test("--json on both sides", async () => {
    await using s = await cliServer(["--json"]);
    await using watcher = runCli(["connect", "127.0.0.1", String(s.port), "--json", "--name", "watcher"]);
    await watcher.waitOut(/you are now watcher/);
    await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "poster"], "/me waves\nhello\n/msg watcher psst\n");
    await watcher.waitOut(/"text":"psst"/);
    const seen = watcher
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const o of seen) expect(typeof o.ts).toBe("string");
    expect(seen).toContainEqual(expect.objectContaining({ type: "message", from: "poster", text: "hello" }));
    expect(seen).toContainEqual(expect.objectContaining({ type: "message", from: "poster", to: "watcher", text: "psst" }));
    expect(seen).toContainEqual(expect.objectContaining({ type: "notice", text: "poster waves" }));
    await s.waitOut(/"type":"leave","name":"poster"/);
    const logged = s
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(logged).toContainEqual(
      expect.objectContaining({ type: "join", name: "poster", peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
    );
    expect(logged).toContainEqual(expect.objectContaining({ type: "message", from: "poster", text: "hello" }));
    expect(logged.some((o) => o.text === "psst")).toBe(false);
  });

  test("--log appends a timestamped transcript and never truncates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-log-"));
    const file = join(dir, "room.log");
    await Bun.write(file, "earlier line\n");
    chmodSync(file, 0o644);
    await using s = await cliServer(["--log", file]);
    await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "alice"], "logged\n");
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines[0]).toBe("earlier line");
    expect(lines).toContainEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z alice: logged$/));
    expect(lines).toContainEqual(expect.stringMatching(/Z \* alice joined from 127\.0\.0\.1:\d+$/));
    // An existing file keeps its mode.
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  test("--log creates its file readable by its owner only", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "chat-log-")), "new.log");
    await using s = await cliServer(["--log", file]);
    await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "alice"], "hello\n");
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toMatch(/Z alice: hello$/m);
  });

  test("--log-max rotates to FILE.1: every line once, in order, neither file past the limit", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "chat-log-")), "room.log");
    await Bun.write(file, "earlier line\n");
    await using s = await cliServer(["--log", file, "--log-max", "4k"]);
    // About 70 bytes a logged line: some 5,600 bytes, one rotation.
    const sent = Array.from({ length: 80 }, (_, i) => `line ${String(i).padStart(2, "0")} ${"x".repeat(30)}`);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port), "--name", "alice"], `${sent.join("\n")}\n`);
    expect(r.code).toBe(0);
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const older = readFileSync(`${file}.1`, "utf8");
    const newer = readFileSync(file, "utf8");
    expect(older.startsWith("earlier line\n")).toBe(true);
    expect(older.length).toBeLessThanOrEqual(4096);
    expect(newer.length).toBeLessThanOrEqual(4096);
    expect(newer.length).toBeGreaterThan(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const said = `${older}${newer}`
      .split("\n")
      .map((l) => /Z alice: (line .*)$/.exec(l)?.[1])
      .filter((t) => t !== undefined);
    expect(said).toEqual(sent);
  });

  test("invisible characters reach members, stdout, --log and --json visibly; joiners an emoji or a script needs stay", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-invisible-"));
    const file = join(dir, "room.log");
    const sent =
      "zero\u200bwidth \u202eevil tag\u{e0041} sep\u2028 fam \u{1f468}\u200d\u{1f469}\u200d\u{1f467} \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 a\u200db";
    const shown =
      "zero<U+200B>width <U+202E>evil tag<U+E0041> sep<U+2028> fam \u{1f468}\u200d\u{1f469}\u200d\u{1f467} \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 a<U+200D>b";
    for (const json of [false, true]) {
      await using s = await cliServer(json ? ["--json"] : ["--log", file]);
      using a = await testClient(s.port);
      using b = await testClient(s.port);
      await a.waitLine(/^\* welcome/);
      await b.waitLine(/^\* welcome/);
      await a.write(`/nick alice\n${sent}\n`);
      await b.waitLine(`alice: ${shown}`);
      if (json) {
        await s.waitOut(/"type":"message"/);
        const events = s
          .stdout()
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        expect(events).toContainEqual(expect.objectContaining({ type: "message", from: "alice", text: shown }));
      } else {
        await s.waitOut(/alice: zero/);
        expect(s.stdout().split("\n")).toContain(`alice: ${shown}`);
        s.kill("SIGTERM");
        expect(await s.exited).toBe(0);
        expect(readFileSync(file, "utf8")).toContain(` alice: ${shown}\n`);
      }
    }
  });

  test("SIGTERM: the room is told, clients see EOF, exit 0", async () => {
    await using s = await cliServer([]);
    using c = await testClient(s.port);
    await c.waitLine(/^\* welcome/);
    s.kill("SIGTERM");
    await c.waitLine("* server shutting down");
    await c.waitClosed();
    expect(await s.exited).toBe(0);
  });
});

test("until() gives up with a message", async () => {
  await expect(until(() => false, "nothing", 50)).rejects.toThrow("timed out after 50ms waiting for nothing");
});
