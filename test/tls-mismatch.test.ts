/**
 * TLS mismatches (issue 12): a plain client of a TLS server and a TLS client of
 * a plain server are each told so in one line, promptly, and a TLS ClientHello
 * on a plain port never reaches anyone (not echoed, printed, relayed or kept).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import {
  clientHelloVerdict,
  FirstBytes,
  looksLikeTlsClientHello,
  looksLikeTlsRecord,
  recordVerdict,
  SNIFF_WAIT_MS,
} from "../src/net/tls-sniff.ts";
import { JOIN_GRACE_MS } from "../src/room/room.ts";
import { testClient, testMember } from "./fixture.ts";
import { cliServer, runCli, runToEnd, until } from "./helpers.ts";

/** The one-line answers, as the CLI prints them. */
const SPEAKS_TLS = "error: the server speaks TLS: use --tls (or --ca FILE)";
const NOT_TLS = /^error: cannot connect to 127\.0\.0\.1:\d+: the server does not speak TLS$/m;
const TRIED_TLS = /^127\.0\.0\.1:\d+ tried TLS on a plain port$/m;
/** What "promptly" means here. */
const PROMPT_MS = 2000;

let dir = "";
let cert = "";
let key = "";
/** A real ClientHello, as Bun's TLS client sends it. */
let clientHello: Uint8Array = new Uint8Array(0);

/** The first TLS record a TLS client sends: its ClientHello (RFC 8446 §5.1: 5-byte header, then `length` bytes). */
async function captureClientHello(): Promise<Uint8Array> {
  let got = new Uint8Array(0);
  const complete = () => got.length >= 5 && got.length >= 5 + (((got[3] ?? 0) << 8) | (got[4] ?? 0));
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, chunk) {
        got = new Uint8Array(Buffer.concat([got, chunk]));
        if (complete()) socket.terminate();
      },
    },
  });
  try {
    await Bun.connect({
      hostname: "127.0.0.1",
      port: listener.port,
      tls: { rejectUnauthorized: false },
      socket: { data() {}, error() {} },
    });
    await until(complete, "a whole ClientHello");
    return got;
  } finally {
    listener.stop(true);
  }
}

/** A TLS client (Bun's) that tries to connect; resolves with why its handshake failed. */
async function tlsAttempt(port: number): Promise<string> {
  let why = "";
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    tls: { rejectUnauthorized: false },
    socket: {
      handshake(socket, success, error) {
        why = success ? "handshake succeeded" : (error?.message ?? "failed");
        // Not terminate(): a reset can make the server lose the ClientHello unread.
        if (success) socket.end();
      },
      data() {},
      close() {
        why ||= "closed";
      },
      error() {},
    },
  });
  return until(() => why || undefined, "the TLS attempt to end", PROMPT_MS);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "chat-tls-mismatch-"));
  cert = join(dir, "cert.pem");
  key = join(dir, "cert.key");
  const made = spawnSync({
    cmd: ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"].concat([
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ]),
    stderr: "pipe",
  });
  if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`);
  clientHello = await captureClientHello();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (s: string) => new TextEncoder().encode(s);
const ALERT = bytes(0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46);

describe("telling TLS by its first bytes", () => {
  test("a ClientHello (and only one) is recognised; too few bytes cannot tell yet", () => {
    const cases: { input: Uint8Array | (() => Uint8Array); hello: boolean | undefined }[] = [
      { input: bytes(), hello: undefined },
      { input: bytes(0x16), hello: undefined },
      { input: bytes(0x16, 0x03), hello: undefined },
      { input: bytes(0x16, 0x03, 0x01), hello: true },
      { input: bytes(0x16, 0x03, 0x00, 0x00, 0x30), hello: true },
      { input: bytes(0x16, 0x03, 0x04, 0x01, 0x00, 0x01), hello: true },
      { input: () => clientHello, hello: true },
      { input: bytes(0x16, 0x03, 0x03, 0x00, 0x40, 0x02), hello: false },
      { input: bytes(0x16, 0x03, 0x05), hello: false },
      { input: bytes(0x16, 0x02, 0x00), hello: false },
      { input: bytes(0x16, 0x41), hello: false },
      { input: ALERT, hello: false },
      { input: text("hello\n"), hello: false },
      { input: text("GET / HTTP/1.1\r\n"), hello: false },
      { input: bytes(0xff, 0xfd, 0x03), hello: false },
    ];
    for (const { input, hello } of cases) {
      const b = typeof input === "function" ? input() : input;
      expect([Buffer.from(b.subarray(0, 8)).toString("hex"), clientHelloVerdict(b)]).toEqual([
        Buffer.from(b.subarray(0, 8)).toString("hex"),
        hello,
      ]);
      expect(looksLikeTlsClientHello(b)).toBe(hello === true);
    }
  });

  test("any TLS record type (alert, handshake, …) is recognised by a client", () => {
    const cases: { input: Uint8Array; record: boolean | undefined }[] = [
      { input: ALERT, record: true },
      { input: bytes(0x14, 0x03, 0x03), record: true },
      { input: bytes(0x16, 0x03, 0x03, 0x00, 0x7a, 0x02), record: true },
      { input: bytes(0x17, 0x03, 0x04), record: true },
      { input: bytes(0x15, 0x03), record: undefined },
      { input: bytes(0x15), record: undefined },
      { input: bytes(), record: undefined },
      { input: bytes(0x13, 0x03, 0x03), record: false },
      { input: bytes(0x18, 0x03, 0x03), record: false },
      { input: bytes(0x15, 0x04, 0x00), record: false },
      { input: bytes(0x15, 0x03, 0x05), record: false },
      { input: text("* welcome, you are guest-1\n"), record: false },
      { input: text("hi"), record: false },
    ];
    for (const { input, record } of cases) {
      expect([Buffer.from(input).toString("hex"), recordVerdict(input)]).toEqual([Buffer.from(input).toString("hex"), record]);
      expect(looksLikeTlsRecord(input)).toBe(record === true);
    }
  });

  test("FirstBytes joins a header split after a byte or two, and decides once", () => {
    const seen: [boolean, number[]][] = [];
    const first = new FirstBytes(clientHelloVerdict, 10_000, (tls, b) => seen.push([tls, [...b]]));
    const chunk = bytes(0x16);
    first.push(chunk);
    chunk[0] = 0; // a read buffer reused: what is held is a copy
    first.push(bytes(0x03));
    expect(seen).toEqual([]);
    first.push(bytes(0x01, 0x00, 0x10, 0x01));
    expect(seen).toEqual([[true, [0x16, 0x03, 0x01, 0x00, 0x10, 0x01]]]);
    first.push(text("more"));
    first.release();
    expect(seen.length).toBe(1);
    expect(first.isDecided).toBe(true);
  });

  test("FirstBytes hands on plain bytes at once, a held byte when released or after its wait, nothing when cancelled", async () => {
    const seen: [boolean, string][] = [];
    const record = (tls: boolean, b: Uint8Array) => seen.push([tls, Buffer.from(b).toString("hex")]);
    new FirstBytes(clientHelloVerdict, 10_000, record).push(text("hi"));
    const released = new FirstBytes(clientHelloVerdict, 10_000, record);
    released.push(bytes(0x16));
    released.release();
    const waited = new FirstBytes(clientHelloVerdict, 20, record);
    waited.push(bytes(0x16, 0x03));
    const cancelled = new FirstBytes(clientHelloVerdict, 20, record);
    cancelled.push(bytes(0x16));
    cancelled.cancel();
    expect(seen).toEqual([
      [false, "6869"],
      [false, "16"],
    ]);
    await until(() => seen.length === 3, "the wait to end", 1000);
    // The cancelled one would have ended 20 ms in: proving it does not takes a time.
    await Bun.sleep(50);
    expect(seen).toEqual([
      [false, "6869"],
      [false, "16"],
      [false, "1603"],
    ]);
  });
});

describe("a plain client of a TLS server", () => {
  for (const mode of ["twoway", "echo", "oneway"]) {
    test(`${mode}: piped, it says the server speaks TLS, exit 1, within 2 s; nothing reaches stdout`, async () => {
      await using s = await cliServer(["--mode", mode, "--tls-cert", cert, "--tls-key", key]);
      const started = performance.now();
      const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "hello there\n");
      const ms = performance.now() - started;
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`connected to 127.0.0.1:${s.port}\n${SPEAKS_TLS}\n`);
      expect(r.stdout).toBe("");
      expect(ms).toBeLessThan(PROMPT_MS);
    });
  }

  test("fewer bytes than a TLS record header: the server resets without a word, and the client suggests --tls", async () => {
    await using s = await cliServer(["--tls-cert", cert, "--tls-key", key]);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "hi\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: connection lost: .*\(nothing was received: if the server speaks TLS, use --tls\)$/m);
    expect(r.stdout).toBe("");
  });

  test("with stdin still open it exits as soon as the server's alert arrives", async () => {
    await using s = await cliServer(["--tls-cert", cert, "--tls-key", key]);
    await using c = runCli(["connect", "127.0.0.1", String(s.port)]);
    await c.waitErr(/^connected to /m);
    const started = performance.now();
    c.write("hello there\n");
    // A deadline, not a wait: the client must be gone within PROMPT_MS.
    const code = await Promise.race([c.exited, Bun.sleep(PROMPT_MS).then(() => "still running")]);
    console.log(`plain client -> TLS server (stdin open): told in ${(performance.now() - started).toFixed(0)} ms`);
    expect(code).toBe(1);
    expect(c.stderr()).toContain(`${SPEAKS_TLS}\n`);
    expect(c.stderr()).not.toContain("connection lost");
    expect(c.stdout()).toBe("");
  });
});

describe("a TLS client of a plain server", () => {
  for (const mode of ["twoway", "echo", "oneway"]) {
    test(`${mode}: --tls --insecure and --ca both say the server does not speak TLS, exit 1, within 2 s`, async () => {
      await using s = await cliServer(["--mode", mode]);
      for (const flags of [["--tls", "--insecure"], ["--ca", cert], ["--tls"]]) {
        const started = performance.now();
        const r = await runToEnd(["connect", ...flags, "127.0.0.1", String(s.port)], "secret\n");
        const ms = performance.now() - started;
        expect([flags.join(" "), r.code]).toEqual([flags.join(" "), 1]);
        expect(r.stderr).toMatch(NOT_TLS);
        expect(r.stderr).not.toContain("certificate verification");
        expect(r.stdout).toBe("");
        expect(ms).toBeLessThan(PROMPT_MS);
      }
      await until(() => s.stderr().match(/tried TLS on a plain port/g)?.length === 3, "three `tried TLS` lines", PROMPT_MS);
      expect(s.stdout()).toBe("");
    });
  }
});

describe("a ClientHello on a plain port", () => {
  test("room: not relayed, kept, announced or printed; the server logs it and the room goes on", async () => {
    await using s = await cliServer(["--mode", "twoway"]);
    using alice = await testMember(s.port, "alice");
    await alice.write("before\n");
    await s.waitOut(/^alice: before$/m);
    const started = performance.now();
    expect(await tlsAttempt(s.port)).toContain("WRONG_VERSION_NUMBER");
    await s.waitErr(TRIED_TLS, PROMPT_MS);
    console.log(`TLS client -> plain room: handshake failed and server logged it in ${(performance.now() - started).toFixed(0)} ms`);
    // Checking for an absence: past the moment the newcomer's join would have been announced.
    await Bun.sleep(JOIN_GRACE_MS + 200);
    using bob = await testMember(s.port, "bob");
    await bob.write("after\n");
    await alice.waitLine("bob: after");
    const heard = alice.lines.slice(alice.lines.indexOf("* you are now alice") + 1);
    expect(heard).toEqual(["* bob joined", "bob: after"]);
    // bob's history: alice's line only.
    expect(bob.lines[1]).toBe("alice: before");
    expect(bob.lines[2]).toBe("* you are now bob");
    expect(s.stdout()).not.toContain("guest-2");
    expect(s.stdout()).not.toMatch(/[^\x20-\x7e\n]/);
  });

  test("room: the client gets the greeting sent at open and nothing after it, then a close", async () => {
    await using s = await cliServer(["--mode", "twoway", "--history", "5"]);
    using alice = await testMember(s.port, "alice");
    await alice.write("kept line\n");
    await s.waitOut(/^alice: kept line$/m);
    using c = await testClient(s.port);
    await c.waitLine("alice: kept line");
    const greeted = [...c.bytes];
    await c.write(clientHello);
    await c.waitClosed(PROMPT_MS);
    expect(c.lines).toEqual([expect.stringMatching(/^\* welcome, you are guest-2 /), "alice: kept line"]);
    expect([...c.bytes]).toEqual(greeted);
    await s.waitErr(TRIED_TLS, PROMPT_MS);
    // Checking for an absence: past the moment the newcomer's join would have been announced.
    await Bun.sleep(JOIN_GRACE_MS + 200);
    await alice.write("still here\n");
    await s.waitOut(/^alice: still here$/m);
    expect(alice.lines.slice(alice.lines.indexOf("* you are now alice") + 1)).toEqual([]);
  });

  test("echo: nothing is echoed, nothing printed, the client is closed, and echo goes on", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    using c = await testClient(s.port);
    await c.write(clientHello);
    await c.waitClosed(PROMPT_MS);
    expect(c.bytes.length).toBe(0);
    await s.waitErr(TRIED_TLS, PROMPT_MS);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "still echoing\n");
    expect(r.stdout).toBe("still echoing\n");
    await s.waitOut(/^127\.0\.0\.1:\d+: still echoing$/m);
    expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: still echoing\n$/);
  });

  test("echo: a ClientHello split after two bytes is still recognised", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    using c = await testClient(s.port);
    await c.write(clientHello.subarray(0, 2));
    // A moment between the halves, so that the server reads them apart.
    await Bun.sleep(50);
    await c.write(clientHello.subarray(2));
    await c.waitClosed(PROMPT_MS);
    expect(c.bytes.length).toBe(0);
    await s.waitErr(TRIED_TLS, PROMPT_MS);
  });

  test("oneway: nothing printed; the server logs it and goes on printing", async () => {
    await using s = await cliServer(["--mode", "oneway"]);
    using c = await testClient(s.port);
    await c.write(clientHello);
    await c.waitClosed(PROMPT_MS);
    await s.waitErr(TRIED_TLS, PROMPT_MS);
    const r = await runToEnd(["connect", "127.0.0.1", String(s.port)], "printed\n");
    expect(r.code).toBe(0);
    await s.waitOut(/^127\.0\.0\.1:\d+: printed$/m);
    expect(s.stdout()).toMatch(/^127\.0\.0\.1:\d+: printed\n$/);
  });

  test("echo stays byte-exact for plain bytes that start like a ClientHello", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    // 0x16 then more: told apart at once.
    using a = await testClient(s.port);
    await a.write(bytes(0x16, 0x41, 0x0a));
    await until(() => a.bytes.length === 3, "the echo", PROMPT_MS);
    expect([...a.bytes]).toEqual([0x16, 0x41, 0x0a]);
    // 0x16 alone: held a moment, then echoed.
    using b = await testClient(s.port);
    const started = performance.now();
    await b.write(bytes(0x16));
    await until(() => b.bytes.length === 1, "the held byte's echo", PROMPT_MS);
    expect(performance.now() - started).toBeGreaterThanOrEqual(SNIFF_WAIT_MS - 50);
    await b.write(bytes(0x03, 0x01));
    await until(() => b.bytes.length === 3, "the rest", PROMPT_MS);
    expect([...b.bytes]).toEqual([0x16, 0x03, 0x01]);
    // 0x16 0x03 then FIN: echoed, then closed.
    using c = await testClient(s.port);
    await c.write(bytes(0x16, 0x03));
    c.finish();
    await c.waitClosed(PROMPT_MS);
    expect([...c.bytes]).toEqual([0x16, 0x03]);
    expect(s.stderr()).not.toContain("tried TLS");
  });
});
