/** Interoperability with peers nobody here wrote: OpenBSD nc, and the tutorial's blocking Python sockets. */
import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { testClient } from "./fixture.ts";
import { cliServer, runToEnd } from "./helpers.ts";

const PEERS = `${import.meta.dir}/peers`;
/** Starts a tutorial Python server; resolves with its port and a reader of what it prints after. */
async function pythonServer(mode: "echo" | "print") {
  const proc = spawn({ cmd: ["python3", `${PEERS}/tutorial_server.py`, mode], stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the Python server exited before printing its port");
    out += decoder.decode(value);
  }
  const port = out.slice(0, out.indexOf("\n"));
  out = out.slice(port.length + 1);
  const rest = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += decoder.decode(value);
    }
  };
  return { proc, port, rest };
}

/** Runs a command with stdin, bounded in time; returns stdout and the exit code. */
async function run(cmd: string[], input = ""): Promise<{ code: number; stdout: string }> {
  const proc = spawn({ cmd, stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const stdout = await new Response(proc.stdout).text();
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout };
}

describe("nc as a client", () => {
  test("echo: nc gets its bytes back", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const r = await run(["nc", "-N", "127.0.0.1", String(s.port)], "a\nb\nno newline");
    expect(r).toEqual({ code: 0, stdout: "a\nb\nno newline" });
  });

  test("oneway: nc's lines are printed, nc receives nothing", async () => {
    await using s = await cliServer(["--mode", "oneway"]);
    const r = await run(["nc", "-N", "127.0.0.1", String(s.port)], "from nc\r\nsecond\n");
    expect(r).toEqual({ code: 0, stdout: "" });
    await s.waitOut(/: second\n/);
    expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: from nc\n127\.0\.0\.1:\d+: second\n$/);
  });

  test("twoway: nc joins the room, talks and is heard", async () => {
    await using s = await cliServer([]);
    using listener = await testClient(s.port);
    await listener.waitLine(/^\* welcome/);
    const r = await run(["nc", "-N", "127.0.0.1", String(s.port)], "/nick ncuser\nhello from nc\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\* welcome, you are guest-2 /);
    expect(r.stdout).toContain("* you are now ncuser\n");
    await listener.waitLine("* ncuser left");
    expect(listener.lines.slice(1)).toEqual(["* ncuser joined", "ncuser: hello from nc", "* ncuser left"]);
    listener.close();
  });
});

describe("nc and the room's commands", () => {
  test("/away, /who, /whois, /topic, /ignore, /back, /help and /quit TEXT, as plain lines", async () => {
    await using s = await cliServer(["--motd", "welcome to ops", "--open-topic"]);
    using listener = await testClient(s.port);
    await listener.waitLine(/^\* welcome/);
    await listener.write("/nick listener\n");
    const commands = [
      "/nick ncuser",
      "/away lunch",
      "/who",
      "/whois ncuser",
      "/topic set from nc",
      "/ignore listener",
      "/back",
      "/help",
      "/quit see you",
    ];
    const r = await run(["nc", "-N", "127.0.0.1", String(s.port)], `${commands.join("\n")}\n`);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toBe("* welcome to ops");
    for (const line of [
      "* ncuser is away: lunch",
      "* 3 here: listener, ncuser (away), server",
      "* ncuser set the topic: set from nc",
      "* you ignore listener: nothing it says or sends reaches you (/unignore listener)",
      "* ncuser is back",
      "*   /whois NAME      since when NAME is here, idle time, away text",
      "* bye",
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.find((l) => l.startsWith("* ncuser: "))).toMatch(/^\* ncuser: here since .* UTC \(\d+s\), idle \d+s, away: lunch$/);
    await listener.waitLine("* ncuser left (see you)");
    expect(listener.lines).toContain("* ncuser set the topic: set from nc");
  });
});

describe("nc and rooms", () => {
  test("/join, /rooms and /msg across rooms, as plain lines; a line stays in its room", async () => {
    await using s = await cliServer([]);
    using inMain = await testClient(s.port);
    using inOps = await testClient(s.port);
    await inMain.waitLine(/^\* welcome/);
    await inOps.waitLine(/^\* welcome/);
    await inMain.write("/nick mainer\n");
    await inOps.write("/nick opser\n/join ops\n");
    await inOps.waitLine("* you are in room ops now (0 others here)");
    const commands = ["/nick ncuser", "/join ops", "hello ops", "/rooms", "/msg mainer psst", "/quit bye"];
    const r = await run(["nc", "-N", "127.0.0.1", String(s.port)], `${commands.join("\n")}\n`);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    for (const line of [
      "* you are in room ops now (1 other here)",
      "* 2 rooms: main (2), ops (2); you are in ops (/join NAME to move)",
      "ncuser -> mainer: psst",
    ]) {
      expect(lines).toContain(line);
    }
    await inOps.waitLine("* ncuser left (bye)");
    expect(inOps.lines.slice(inOps.lines.indexOf("* ncuser joined"))).toEqual([
      "* ncuser joined",
      "ncuser: hello ops",
      "* ncuser left (bye)",
    ]);
    await inMain.waitLine("ncuser -> mainer: psst");
    expect(inMain.lines).toContain("* ncuser left (joined ops)");
    expect(inMain.lines).not.toContain("ncuser: hello ops");
  });
});

describe("the tutorial's Python sockets", () => {
  test("blocking Python client → chat serve --mode echo", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const r = await run(["python3", `${PEERS}/tutorial_client.py`, String(s.port), "send", "hello", "wörld"]);
    expect(r).toEqual({ code: 0, stdout: "hello\nwörld\n" });
  });

  test("two-threaded Python chat client ↔ chat room with a second participant", async () => {
    await using s = await cliServer([]);
    using other = await testClient(s.port);
    await other.waitLine(/^\* welcome/);
    await other.write("/nick other\n");
    const client = run(["python3", `${PEERS}/tutorial_client.py`, String(s.port), "chat", "/nick py", "hi from python"]);
    await other.waitLine("py: hi from python");
    await other.write("hi python\n");
    const r = await client;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("other: hi python\n");
    other.close();
  });

  test("chat connect → blocking Python echo server", async () => {
    const py = await pythonServer("echo");
    const r = await runToEnd(["connect", "127.0.0.1", py.port], "one\ntwo\n");
    expect(r).toMatchObject({ code: 0, stdout: "one\ntwo\n" });
    expect(await py.proc.exited).toBe(0);
  });

  test("chat connect → blocking Python print server (the tutorial's one-way chat)", async () => {
    const py = await pythonServer("print");
    const r = await runToEnd(["connect", "127.0.0.1", py.port, "--name", "someone"], "printed there\n");
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(await py.rest()).toBe("printed there\n");
    expect(await py.proc.exited).toBe(0);
  });
});
