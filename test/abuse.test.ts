/**
 * Hostile and odd peers (issue 4): telnet negotiation and the real telnet
 * client, random bytes, resets mid-write, clients that connect and vanish,
 * and bursts of connections; the server neither crashes nor leaks a socket.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { testClient, testMember, testServer } from "./fixture.ts";
import { MiB, memory, openFds } from "./flood.ts";
import { cliServer, until } from "./helpers.ts";

const encoder = new TextEncoder();

describe("telnet", () => {
  const iacMix = Uint8Array.from([
    0xff,
    0xfb,
    0x01,
    ...encoder.encode("hel"),
    0xff,
    0xfd,
    0x03,
    ...encoder.encode("lo "),
    0xff,
    0xfa,
    0x18,
    0x01,
    0xff,
    0xf0,
    ...encoder.encode("world"),
    0xff,
    0xf1,
    0x0d,
    0x0a,
  ]);

  test("IAC negotiation is stripped from what is relayed and printed in a room", async () => {
    await using s = await testServer();
    using alice = await testMember(s.port, "alice");
    using bob = await testMember(s.port, "bob");
    await alice.write(iacMix);
    await bob.waitLine("alice: hello world");
    expect(s.events).toContainEqual({ type: "message", from: "alice", text: "hello world" });
  });

  test("oneway prints it stripped; echo sends the bytes back unchanged but prints them stripped", async () => {
    await using oneway = await testServer({ mode: "oneway" });
    using o = await testClient(oneway.port);
    await o.write(iacMix);
    await until(() => oneway.messages().length > 0, "the printed line");
    expect(oneway.messages()).toEqual([expect.objectContaining({ text: "hello world" })]);

    await using echo = await testServer({ mode: "echo" });
    using e = await testClient(echo.port);
    await e.write(iacMix);
    await until(() => e.bytes.length === iacMix.length, "the echo");
    expect(e.bytes).toEqual(iacMix);
    await until(() => echo.messages().length > 0, "the printed line");
    expect(echo.messages()).toEqual([expect.objectContaining({ text: "hello world" })]);
  });

  test.skipIf(!existsSync("/usr/bin/telnet"))("the real telnet client chats in a room, in line and character mode", async () => {
    await using s = await testServer();
    using bob = await testMember(s.port, "bob");
    const telnet = Bun.spawn({ cmd: ["/usr/bin/telnet", "127.0.0.1", String(s.port)], stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      let out = "";
      const reading = (async () => {
        for await (const chunk of telnet.stdout) out += new TextDecoder().decode(chunk);
      })();
      const type = (text: string) => {
        telnet.stdin.write(text);
        telnet.stdin.flush();
      };
      await until(() => out.includes("* welcome, you are"), "telnet to print the greeting");
      type("hello from telnet\n");
      await bob.waitLine(/^guest-\d+: hello from telnet$/);
      // Character mode makes telnet negotiate (IAC DO SGA, IAC DO ECHO) and send CR NUL.
      // telnet drops what follows an escape command in the same read: no event tells
      // when it is ready for more, so pause briefly after each.
      type("\x1dmode character\n");
      await Bun.sleep(200);
      type("\x1dsend ayt\n");
      await Bun.sleep(200);
      type("second line\r\n");
      await bob.waitLine(/^guest-\d+: second line$/);
      await bob.write("hi telnet\n");
      await until(() => out.includes("bob: hi telnet"), "telnet to print bob's line");
      const relayed = bob.lines.filter((l) => l.startsWith("guest-"));
      expect(relayed.map((l) => l.replace(/^guest-\d+: /, ""))).toEqual(["hello from telnet", "second line"]);
      for (const e of s.events) expect(JSON.stringify(e)).not.toMatch(/\\u00ff|\uFFFD|\^@|\^M/);
      telnet.kill("SIGKILL");
      await reading;
    } finally {
      telnet.kill("SIGKILL");
      await telnet.exited;
    }
  });
});

const RESETS_PY = `
import socket, struct, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.send(b"half a line that never ends " * 200)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;

/** Random bytes, resets mid-write, connect-and-vanish, and a burst of `burst` connections. */
async function abuse(port: number, burst: number): Promise<void> {
  // The clients of the random bytes are closed (reset) when the abuse is over.
  using opened = new DisposableStack();
  const blobs = Array.from({ length: 12 }, (_, i) => ({ bytes: crypto.getRandomValues(new Uint8Array(64 * 1024)), reset: i % 2 === 1 }));
  await Promise.all(
    blobs.map(async ({ bytes, reset }) => {
      const c = opened.use(await testClient(port));
      if (reset) {
        c.socket.write(bytes);
        c.close();
      } else {
        await c.write(bytes);
        c.finish();
      }
    }),
  );
  const vanish = await Promise.all(
    Array.from({ length: 100 }, () => Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } })),
  );
  for (const socket of vanish) socket.terminate();
  const py = Bun.spawn({ cmd: ["python3", "-c", RESETS_PY, String(port), "200"], stdout: "ignore", stderr: "pipe" });
  expect(await py.exited).toBe(0);
  const crowd = await Promise.all(
    Array.from({ length: burst }, () => Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } })),
  );
  for (const [i, socket] of crowd.entries()) {
    socket.write("one line from the crowd\n");
    if (i % 2) socket.terminate();
    else socket.end();
  }
}

describe("abuse", () => {
  for (const [mode, burst] of [
    ["twoway", 1000],
    ["echo", 1000],
    ["oneway", 1000],
  ] as const) {
    test(`${mode}: random bytes, resets, vanishing clients and ${burst} connections at once: no crash, no leaked socket`, async () => {
      await using s = await cliServer(["--mode", mode, "--host", "127.0.0.1"]);
      const pid = s.proc.pid;
      using warm = await testClient(s.port);
      await warm.write("warm up\n");
      // A room announces only a guest who said something: its line, then its leave.
      if (mode === "twoway") await s.waitOut(/^guest-1: warm up$/m);
      warm.close();
      // The server closes a socket before it reports the leave: then its descriptor is out of the baseline.
      if (mode === "twoway") await s.waitOut(/^\* guest-1 left/m);
      else await s.waitErr(/disconnected/);
      const baseline = openFds(pid);

      await abuse(s.port, burst);
      await until(() => openFds(pid) <= baseline, `fds back to ${baseline} after the abuse (have ${openFds(pid)})`, 15_000);

      using after = await testClient(s.port);
      if (mode === "twoway") {
        await after.waitLine(/^\* welcome, you are /, 10_000);
        using other = await testMember(s.port, "other");
        await after.write("still alive\n");
        await other.waitLine(/: still alive$/, 10_000);
        other.close();
      } else {
        await after.write("still alive\n");
        if (mode === "echo") await after.waitLine("still alive", 10_000);
        else await s.waitOut(/: still alive$/m, 10_000);
      }
      after.close();
      await until(() => openFds(pid) <= baseline, `fds back to ${baseline} (have ${openFds(pid)})`);
      expect(memory(pid).hwm).toBeLessThan(300 * MiB);
      s.kill("SIGTERM");
      expect(await s.exited).toBe(0);
      expect(s.stderr()).not.toMatch(/error|exception|panic/i);
    });
  }
});
