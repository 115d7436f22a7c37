/**
 * Transport (issue 5): TLS, unix sockets, IPv6, and the client's --timeout
 * and --retry, end to end through the CLI, with openssl s_client and netcat as
 * outside peers. Certificates are made with openssl at test time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync, type TCPSocketListener } from "bun";
import { connect } from "../src/client.ts";
import { testClient, testServer } from "./fixture.ts";
import { type Cli, cliServer, runCli, runToEnd, until } from "./helpers.ts";

let dir = "";
let cert = "";
let key = "";
/** A second self-signed certificate, for example.com only. */
let otherCert = "";
let otherKey = "";

function makeCert(name: string, subjectAltName: string): void {
  const made = spawnSync({
    cmd: [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      `subjectAltName=${subjectAltName}`,
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      join(dir, `${name}.pem`),
    ],
    stderr: "pipe",
  });
  if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "chat-transport-"));
  makeCert("cert", "DNS:localhost,IP:127.0.0.1,IP:::1");
  makeCert("other", "DNS:example.com");
  cert = join(dir, "cert.pem");
  key = join(dir, "cert.key");
  otherCert = join(dir, "other.pem");
  otherKey = join(dir, "other.key");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `chat serve --unix PATH …`, once it is listening. */
async function unixServer(path: string, args: string[] = []): Promise<Cli> {
  const s = runCli(["serve", "--unix", path, ...args]);
  await s.waitErr(new RegExp(`listening on ${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(mode`));
  return s;
}

/** A peer nobody here wrote (openssl, nc), with its output collected; `await using` kills it. */
function outsider(cmd: string[]) {
  const proc = spawn({ cmd, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const out = { text: "" };
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) out.text += decoder.decode(chunk, { stream: true });
  })();
  return {
    proc,
    write: (text: string) => {
      proc.stdin.write(text);
      proc.stdin.flush();
    },
    endInput: () => proc.stdin.end(),
    stdout: () => out.text,
    waitOut: (text: string, timeoutMs = 10_000) =>
      until(() => out.text.includes(text), `${cmd[0]} to print ${JSON.stringify(text)} (have ${JSON.stringify(out.text)})`, timeoutMs),
    exited: proc.exited.then(async (code) => {
      await reading;
      return code;
    }),
    [Symbol.asyncDispose]: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** A port nothing listens on (taken from the kernel, then released). */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/** 500 connects x 20 lines: 10,000 messages, about a second. */
const SOAK_CONNECTS = 500;
/** Bun has open reports of TLS memory growth (oven-sh/bun#17777, #16503); this is a generous bound. */
const SOAK_MAX_GROWTH_KIB = 100 * 1024;

const seq = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

describe("TLS", () => {
  const tlsArgs = () => ["--tls-cert", cert, "--tls-key", key];

  test("echo over TLS is byte-exact, and both sides print the same certificate fingerprint", async () => {
    await using s = await cliServer(["--mode", "echo", ...tlsArgs()]);
    const [, fingerprint] = await s.waitErr(/^tls certificate sha256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/m);
    const input = seq(20_000);
    const r = await runToEnd(["connect", "--tls", "--ca", cert, "127.0.0.1", String(s.port)], input);
    expect(r.stderr).toContain(`server certificate sha256 ${fingerprint}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(r.stdout === input).toBe(true);
  });

  test("a TLS room: a line from one client reaches the other as NAME: TEXT", async () => {
    await using s = await cliServer(tlsArgs());
    await using alice = runCli(["connect", "--tls", "--ca", cert, "--name", "alice", `localhost:${s.port}`]);
    await alice.waitOut(/^\* you are now alice$/m);
    const bob = await runToEnd(["connect", "--tls", "--ca", cert, "--name", "bob", `localhost:${s.port}`], "hello over tls\n");
    expect(bob.code).toBe(0);
    await alice.waitOut(/^bob: hello over tls$/m);
    await s.waitOut(/^bob: hello over tls$/m);
  });

  test("a TLS handshake never finished: closed at the deadline, never seen by the room, and it counts toward --max-clients", async () => {
    const tls = { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
    await using s = await testServer({ tls, tlsHandshakeMs: 300, maxClients: 1 });
    // A plain TCP client of the TLS port that never sends a byte: its handshake never starts.
    using stalled = await testClient(s.port);
    // While it holds the one slot, a real TLS client is refused (told so once its handshake is done).
    const refused = await connect({ host: "127.0.0.1", port: s.port, tls: { ca: tls.cert }, timeoutMs: 5000 });
    let said = "";
    refused.onData((chunk) => {
      said += new TextDecoder().decode(chunk);
    });
    await refused.closed;
    expect(said).toBe("! server full\n");
    await stalled.waitClosed(2000);
    await until(() => s.statuses.find((line) => /did not finish its TLS handshake within 0\.3s/.test(line)), "the status line");
    expect(s.events.filter((e) => e.type === "join" || e.type === "leave")).toEqual([]);
    // The slot is free again: a TLS client joins.
    const joined = await connect({ host: "127.0.0.1", port: s.port, tls: { ca: tls.cert }, timeoutMs: 5000 });
    let greeting = "";
    joined.onData((chunk) => {
      greeting += new TextDecoder().decode(chunk);
    });
    await until(() => greeting.startsWith("* welcome, you are guest-"), "the greeting");
    await joined.close();
  });

  test("oneway over TLS prints PEER: TEXT", async () => {
    await using s = await cliServer(["--mode", "oneway", ...tlsArgs()]);
    const r = await runToEnd(["connect", "--ca", cert, `127.0.0.1:${s.port}`], "one way, encrypted\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    await s.waitOut(/^127\.0\.0\.1:\d+: one way, encrypted$/m);
  });

  test("openssl s_client, verifying the certificate, gets its echo", async () => {
    await using s = await cliServer(["--mode", "echo", ...tlsArgs()]);
    await using peer = outsider([
      "openssl",
      "s_client",
      "-quiet",
      "-verify_return_error",
      "-CAfile",
      cert,
      "-connect",
      `127.0.0.1:${s.port}`,
    ]);
    peer.write("ping from openssl\n");
    await peer.waitOut("ping from openssl\n");
    await s.waitOut(/^127\.0\.0\.1:\d+: ping from openssl$/m);
  });

  test("TLS 1.2 offers forward-secret AEAD suites only; TLS 1.3 still works", async () => {
    await using s = await cliServer(["--mode", "echo", "--host", "127.0.0.1", ...tlsArgs()]);
    const handshake = async (...args: string[]) => {
      const proc = spawn({
        cmd: ["openssl", "s_client", "-CAfile", cert, "-connect", `127.0.0.1:${s.port}`, ...args],
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { code, cipher: /Cipher is (\S+)/.exec(out)?.[1], protocol: /^New, (\S+),/m.exec(out)?.[1], err };
    };
    // Static RSA key exchange and CBC: refused.
    const weak = await handshake("-tls1_2", "-cipher", "AES128-SHA");
    expect(weak.code).not.toBe(0);
    expect(weak.err).toMatch(/handshake failure/);
    expect(weak.cipher).toBe("(NONE)");
    const strong = await handshake("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
    expect(strong).toMatchObject({ code: 0, protocol: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256" });
    const chacha = await handshake("-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305");
    expect(chacha).toMatchObject({ code: 0, cipher: "ECDHE-RSA-CHACHA20-POLY1305" });
    const v13 = await handshake("-tls1_3");
    expect(v13).toMatchObject({ code: 0, protocol: "TLSv1.3" });
  });

  test("a self-signed server without --ca: exit 1, the certificate named, nothing sent", async () => {
    await using s = await cliServer(["--mode", "oneway", ...tlsArgs()]);
    const started = performance.now();
    const r = await runToEnd(["connect", "--tls", "127.0.0.1", String(s.port)], "secret\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot connect to 127.0.0.1:${s.port}: certificate verification failed: self signed certificate\n`);
    expect(r.stdout).toBe("");
    expect(performance.now() - started).toBeLessThan(3000);
    expect(s.stdout()).not.toContain("secret");
  });

  test("a certificate for another name is refused even with it as --ca", async () => {
    await using s = await cliServer(["--mode", "echo", "--tls-cert", otherCert, "--tls-key", otherKey]);
    const r = await runToEnd(["connect", "--ca", otherCert, `localhost:${s.port}`], "hi\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: cannot connect to localhost:\d+: certificate verification failed: .*localhost.* is not in the cert's altnames/m,
    );
  });

  test("--insecure connects without verifying, and warns", async () => {
    await using s = await cliServer(["--mode", "echo", ...tlsArgs()]);
    const [, fingerprint] = await s.waitErr(/^tls certificate sha256 (\S+)$/m);
    const r = await runToEnd(["connect", "--insecure", `127.0.0.1:${s.port}`], "unverified\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("unverified\n");
    expect(r.stderr).toMatch(/^warning: --insecure: .*not checked$/m);
    expect(r.stderr).toContain(`server certificate sha256 ${fingerprint}\n`);
  });

  test("a key that does not match the certificate: exit 1, said plainly", async () => {
    const r = await runToEnd(["serve", "--port", "0", "--tls-cert", cert, "--tls-key", otherKey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: cannot serve TLS: the key does not match the certificate\n");
  });

  test("soak: 500 sequential TLS connections x 20 lines, server memory stays bounded", async () => {
    await using s = await cliServer(["--mode", "echo", "--quiet", ...tlsArgs()]);
    const ca = readFileSync(cert, "utf8");
    const lines = seq(20);
    const session = async () => {
      const c = await connect({ host: "127.0.0.1", port: s.port, tls: { ca }, timeoutMs: 5000 });
      let got = "";
      c.onData((chunk) => {
        got += new TextDecoder().decode(chunk);
      });
      c.send(lines);
      c.finish();
      const error = await c.closed;
      if (error || got !== lines) throw new Error(`bad session: ${error?.message ?? ""} ${JSON.stringify(got)}`);
    };
    for (let i = 0; i < 20; i++) await session();
    const before = rssKiB(s.proc.pid);
    const started = performance.now();
    for (let i = 0; i < SOAK_CONNECTS; i++) await session();
    const after = rssKiB(s.proc.pid);
    const ms = performance.now() - started;
    console.log(
      `TLS soak: ${SOAK_CONNECTS} connects x 20 lines in ${ms.toFixed(0)} ms; server RSS ${(before / 1024).toFixed(1)} MiB -> ${(after / 1024).toFixed(1)} MiB (${((after - before) / 1024).toFixed(1)} MiB)`,
    );
    expect(after - before).toBeLessThan(SOAK_MAX_GROWTH_KIB);
  });
});

describe("unix sockets", () => {
  test("echo over a unix socket; peers are local-N", async () => {
    const path = join(dir, "echo.sock");
    await using s = await unixServer(path, ["--mode", "echo"]);
    const input = seq(5000);
    const r = await runToEnd(["connect", "--unix", path], input);
    expect(r.code).toBe(0);
    expect(r.stdout === input).toBe(true);
    expect(r.stderr).toContain(`connected to ${path}\n`);
    await s.waitOut(/^local-\d+: 5000$/m);
  });

  test("a twoway room over a unix socket", async () => {
    const path = join(dir, "room.sock");
    await using s = await unixServer(path);
    await using alice = runCli(["connect", "--unix", path, "--name", "alice"]);
    await alice.waitOut(/^\* you are now alice$/m);
    const bob = await runToEnd(["connect", "--unix", path, "--name", "bob"], "hi over unix\n");
    expect(bob.code).toBe(0);
    await alice.waitOut(/^bob: hi over unix$/m);
    await s.waitOut(/joined from local-\d+/);
  });

  test("nc -U talks to a unix-socket server", async () => {
    const path = join(dir, "nc.sock");
    await using s = await unixServer(path, ["--mode", "echo"]);
    await using peer = outsider(["nc", "-N", "-U", path]);
    peer.write("hello from nc\n");
    peer.endInput();
    expect(await peer.exited).toBe(0);
    expect(peer.stdout()).toBe("hello from nc\n");
    await s.waitOut(/^local-\d+: hello from nc$/m);
  });

  test("a stale socket file from a killed server is replaced", async () => {
    const path = join(dir, "stale.sock");
    await using crashed = await unixServer(path, ["--mode", "echo"]);
    crashed.kill("SIGKILL");
    await crashed.exited;
    expect(lstatSync(path).isSocket()).toBe(true);
    await using s = await unixServer(path, ["--mode", "echo"]);
    expect(s.stderr()).not.toContain("in use");
    const r = await runToEnd(["connect", "--unix", path], "after the crash\n");
    expect(r.stdout).toBe("after the crash\n");
  });

  test("a live socket: exit 1, address already in use, and the live server goes on", async () => {
    const path = join(dir, "live.sock");
    await using _live = await unixServer(path, ["--mode", "echo"]);
    const second = await runToEnd(["serve", "--unix", path, "--mode", "echo"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`error: cannot listen on ${path}: address already in use\n`);
    const r = await runToEnd(["connect", "--unix", path], "still here\n");
    expect(r.stdout).toBe("still here\n");
  });

  test("a regular file in the way: exit 1, clear message, file untouched", async () => {
    const path = join(dir, "notasocket");
    writeFileSync(path, "keep me\n");
    const r = await runToEnd(["serve", "--unix", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot listen on ${path}: a file that is not a socket is in the way\n`);
    expect(readFileSync(path, "utf8")).toBe("keep me\n");
  });

  test("the socket file is removed on SIGTERM", async () => {
    const path = join(dir, "term.sock");
    await using s = await unixServer(path, ["--mode", "oneway"]);
    expect(existsSync(path)).toBe(true);
    s.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(existsSync(path)).toBe(false);
  });
});

describe("IPv6", () => {
  test("the default listener serves IPv4 and IPv6; IPv4 peers print as plain IPv4", async () => {
    await using s = await cliServer(["--mode", "oneway"]);
    expect(s.stderr()).toContain(`listening on [::]:${s.port} (mode oneway)`);
    const v4 = await runToEnd(["connect", "127.0.0.1", String(s.port)], "from v4\n");
    const v6 = await runToEnd(["connect", `[::1]:${s.port}`], "from v6\n");
    expect([v4.code, v6.code]).toEqual([0, 0]);
    expect(v6.stderr).toContain(`connected to [::1]:${s.port}\n`);
    await s.waitOut(/^127\.0\.0\.1:\d+: from v4$/m);
    await s.waitOut(/^\[::1\]:\d+: from v6$/m);
  });

  test("--host ::1 listens on IPv6 loopback only; `connect ::1 PORT` works", async () => {
    await using s = await cliServer(["--mode", "echo", "--host", "::1"]);
    expect(s.stderr()).toContain(`listening on [::1]:${s.port} (mode echo)`);
    const r = await runToEnd(["connect", "::1", String(s.port)], "v6 only\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("v6 only\n");
    const v4 = await runToEnd(["connect", "127.0.0.1", String(s.port)]);
    expect(v4.code).toBe(1);
    expect(v4.stderr).toBe(`error: cannot connect to 127.0.0.1:${s.port}: connection refused\n`);
    // localhost is tried as 127.0.0.1 (refused here), then ::1.
    const named = await runToEnd(["connect", `localhost:${s.port}`], "by name\n");
    expect(named.stdout).toBe("by name\n");
  });

  test("--host [::1] (bracketed) is accepted", async () => {
    await using s = await cliServer(["--mode", "echo", "--host", "[::1]"]);
    expect(s.stderr()).toContain(`listening on [::1]:${s.port}`);
  });

  test("connecting to localhost opens one connection, not one per address", async () => {
    await using s = await cliServer(["--mode", "oneway"]);
    const r = await runToEnd(["connect", `localhost:${s.port}`], "just once\n");
    expect(r.code).toBe(0);
    await s.waitOut(/: just once$/m);
    await s.waitErr(/ disconnected$/m);
    expect(s.stderr().match(/ connected$/gm)?.length).toBe(1);
  });
});

describe("connect --timeout and --retry", () => {
  /** A TCP server that accepts and never answers: a TLS handshake with it never completes. `using` stops it. */
  function silentServer(accepted: { open: number; closed: number }): TCPSocketListener<unknown> {
    const l = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open() {
          accepted.open++;
        },
        data() {},
        close() {
          accepted.closed++;
        },
      },
    });
    return l;
  }

  test("--timeout bounds a TLS handshake that never completes", async () => {
    using l = silentServer({ open: 0, closed: 0 });
    const started = performance.now();
    const r = await runToEnd(["connect", "--tls", "--insecure", "--timeout", "500ms", "127.0.0.1", String(l.port)]);
    const ms = performance.now() - started;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: cannot connect to 127.0.0.1:${l.port}: timed out after 500ms\n`);
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(2000);
  });

  test("a timed-out attempt closes its socket (library, no process exit to hide a leak)", async () => {
    const accepted = { open: 0, closed: 0 };
    using l = silentServer(accepted);
    const attempt = connect({ host: "127.0.0.1", port: l.port, tls: { insecure: true }, timeoutMs: 200, retry: 1 });
    await expect(attempt).rejects.toThrow(`cannot connect to 127.0.0.1:${l.port}: timed out after 200ms`);
    await until(() => accepted.closed === 2, `both attempts closed (${JSON.stringify(accepted)})`, 2000);
    expect(accepted.open).toBe(2);
  });

  test("--retry reaches a server that starts after the first attempt failed", async () => {
    const port = freePort();
    await using c = runCli(["connect", "--retry", "5", "127.0.0.1", String(port)]);
    await c.waitErr(/^warning: cannot connect to 127\.0\.0\.1:\d+: connection refused \(retrying in 250ms, 5 left\)$/m);
    await using _echo = await testServer({ mode: "echo", port });
    await c.waitErr(new RegExp(`^connected to 127\\.0\\.0\\.1:${port}$`, "m"));
    c.write("after retry\n");
    c.endInput();
    expect(await c.exited).toBe(0);
    expect(c.stdout()).toBe("after retry\n");
  });

  test("--retry 2 against nothing: 3 attempts, 2 retry lines with backoff, exit 1", async () => {
    const port = freePort();
    const started = performance.now();
    const r = await runToEnd(["connect", "--retry", "2", "127.0.0.1", String(port)]);
    const ms = performance.now() - started;
    expect(r.code).toBe(1);
    const refused = `cannot connect to 127.0.0.1:${port}: connection refused`;
    expect(r.stderr).toBe(
      `warning: ${refused} (retrying in 250ms, 2 left)\nwarning: ${refused} (retrying in 500ms, 1 left)\nerror: ${refused}\n`,
    );
    expect(ms).toBeGreaterThanOrEqual(750);
    expect(ms).toBeLessThan(3000);
  });

  test("refused: one line, exit 1, promptly (IPv4 and IPv6)", async () => {
    const port = freePort();
    for (const target of [`127.0.0.1:${port}`, `[::1]:${port}`]) {
      const started = performance.now();
      const r = await runToEnd(["connect", target]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error: cannot connect to ${target}: connection refused\n`);
      expect(performance.now() - started).toBeLessThan(1500);
    }
  });

  test("--timeout 0 means no limit", async () => {
    await using s = await cliServer(["--mode", "echo"]);
    const r = await runToEnd(["connect", "--timeout", "0", "127.0.0.1", String(s.port)], "no deadline\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("no deadline\n");
  });

  test("a bad --timeout is a usage error", async () => {
    const r = await runToEnd(["connect", "--timeout", "soon", "127.0.0.1", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid --timeout: soon/m);
  });
});
