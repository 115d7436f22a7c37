/** Library tests of echo and oneway over real loopback sockets. */
import { describe, expect, test } from "bun:test";
import { testClient, testServer } from "./fixture.ts";
import { until } from "./helpers.ts";

describe("echo", () => {
  test("1 MiB of random bytes comes back byte-exact, then the server closes after FIN", async () => {
    await using s = await testServer({ mode: "echo" });
    using c = await testClient(s.port);
    const all = new Uint8Array(1 << 20);
    for (let i = 0; i < 16; i++) all.set(crypto.getRandomValues(new Uint8Array(65536)), i * 65536);
    await c.write(all);
    c.finish();
    await c.waitClosed(10_000);
    expect(c.bytes.length).toBe(all.length);
    expect(Buffer.compare(c.bytes, all)).toBe(0);
  });

  test("echoes at once, without waiting for a newline", async () => {
    await using s = await testServer({ mode: "echo" });
    using c = await testClient(s.port);
    await c.write("no newline yet");
    await until(() => c.text === "no newline yet", "the partial echo");
  });

  test("50 concurrent clients each get exactly their own bytes", async () => {
    await using s = await testServer({ mode: "echo" });
    using opened = new DisposableStack();
    const all = await Promise.all(Array.from({ length: 50 }, async () => opened.use(await testClient(s.port))));
    const payloads = all.map((_, i) => {
      const lines = Array.from({ length: 200 }, (_, j) => `client ${i} line ${j} ${"x".repeat(i)}`);
      return `${lines.join("\n")}\n`;
    });
    await Promise.all(all.map((c, i) => c.write(payloads[i] ?? "")));
    for (const c of all) c.finish();
    await Promise.all(all.map((c) => c.waitClosed(10_000)));
    for (const [i, c] of all.entries()) expect(c.text).toBe(payloads[i] ?? "");
  });

  test("prints each received line as PEER: TEXT, sanitised", async () => {
    await using s = await testServer({ mode: "echo" });
    using c = await testClient(s.port);
    await c.write("hello\r\nbell\x07 and \x1b[2J\n");
    await until(() => s.messages().length === 2, "two printed lines");
    const port = c.socket.localPort;
    expect(s.messages().map((m) => `${m.from}: ${m.text}`)).toEqual([`127.0.0.1:${port}: hello`, `127.0.0.1:${port}: bell^G and ^[[2J`]);
    await until(() => c.text === "hello\r\nbell\x07 and \x1b[2J\n", "the byte-exact echo");
  });

  test("a reset mid-stream is an ordinary disconnect", async () => {
    await using s = await testServer({ mode: "echo" });
    using c = await testClient(s.port);
    await c.write("x".repeat(100_000));
    c.close();
    await until(() => s.events.some((e) => e.type === "leave"), "the leave event");
    using again = await testClient(s.port);
    await again.write("still up\n");
    await again.waitLine("still up");
  });
});

describe("oneway", () => {
  test("never sends a byte; prints lines and a final unterminated one", async () => {
    await using s = await testServer({ mode: "oneway" });
    using c = await testClient(s.port);
    await c.write("first\nsecond\nlast without newline");
    c.finish();
    await c.waitClosed();
    expect(c.bytes.length).toBe(0);
    expect(s.messages().map((m) => m.text)).toEqual(["first", "second", "last without newline"]);
  });

  test("10 concurrent clients x 200 lines print whole and in order per client", async () => {
    await using s = await testServer({ mode: "oneway" });
    using opened = new DisposableStack();
    const all = await Promise.all(Array.from({ length: 10 }, async () => opened.use(await testClient(s.port))));
    const sent = all.map((_, i) => Array.from({ length: 200 }, (_, j) => `c${i}-l${j}-${"y".repeat(50)}`));
    await Promise.all(all.map((c, i) => c.write(`${(sent[i] ?? []).join("\n")}\n`)));
    await until(() => s.messages().length === 2000, "2000 printed lines", 10_000);
    all.forEach((c, i) => {
      const peer = `127.0.0.1:${c.socket.localPort}`;
      expect(
        s
          .messages()
          .filter((m) => m.from === peer)
          .map((m) => m.text),
      ).toEqual(sent[i] ?? []);
      expect(c.bytes.length).toBe(0);
    });
  });

  test("Korean text sent one byte at a time prints intact", async () => {
    await using s = await testServer({ mode: "oneway" });
    using c = await testClient(s.port);
    const bytes = new TextEncoder().encode("안녕하세요, 세계\n");
    for (const byte of bytes) {
      await c.write(Uint8Array.of(byte));
      // Nothing comes back in oneway to wait for: a moment between bytes so each arrives in a read of its own.
      await Bun.sleep(1);
    }
    await until(() => s.messages().length === 1, "the line");
    expect(s.messages()[0]?.text).toBe("안녕하세요, 세계");
  });

  test("ESC and BEL never reach the printed text; invalid UTF-8 shows as U+FFFD", async () => {
    await using s = await testServer({ mode: "oneway" });
    using c = await testClient(s.port);
    await c.write(Uint8Array.from([0x1b, 0x5d, 0x30, 0x3b, 0x78, 0x07, 0x41, 0xff, 0x42, 0x0a]));
    await until(() => s.messages().length === 1, "the line");
    const text = s.messages()[0]?.text ?? "";
    expect(text).toBe("^[]0;x^GA\uFFFDB");
    expect(/[\x00-\x08\x0b-\x1f\x7f]/.test(text)).toBe(false);
  });

  test("telnet negotiation is stripped", async () => {
    await using s = await testServer({ mode: "oneway" });
    using c = await testClient(s.port);
    await c.write(Uint8Array.from([255, 251, 24, 255, 253, 1, ...new TextEncoder().encode("hi\r\n")]));
    await until(() => s.messages().length === 1, "the line");
    expect(s.messages()[0]?.text).toBe("hi");
  });

  test("close() is idempotent and resolves", async () => {
    await using s = await testServer({ mode: "oneway" });
    using _client = await testClient(s.port);
    await Promise.all([s.close(), s.close()]);
    await s.close();
  });
});
