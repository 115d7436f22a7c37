/**
 * A case of scripts/reliability.ts for stalled TLS handshakes (issue 15,
 * item 1): thousands of connections to a TLS server that never send a byte.
 * The figures: the server's CPU meanwhile (no spin), how long a real TLS
 * client takes to be welcomed during the attack, and when the server has
 * closed every stalled socket (the handshake deadline, TLS_HANDSHAKE_MS).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TLS_HANDSHAKE_MS } from "../src/defaults.ts";
import { crowd, type ServerProcess, waitFor } from "./load.ts";

interface Outcome {
  ok: boolean;
  detail: string;
}

/** A self-signed certificate for the case's server: `[--tls-cert, FILE, --tls-key, FILE]`. */
export function tlsArgs(): string[] {
  const dir = mkdtempSync(join(tmpdir(), "chat-reliability-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const made = Bun.spawnSync({
    cmd: ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
    stdout: "ignore",
    stderr: "pipe",
  });
  if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`);
  return ["--tls-cert", cert, "--tls-key", key];
}

/** How long a TLS client takes from connecting to the room's welcome. */
export async function welcomed(port: number): Promise<number> {
  const started = Date.now();
  let text = "";
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    tls: { rejectUnauthorized: false },
    socket: {
      data(_s, chunk) {
        text += new TextDecoder().decode(chunk);
      },
    },
  });
  try {
    await waitFor(() => text.includes("* welcome"), "a TLS client's welcome", 10_000);
    return Date.now() - started;
  } finally {
    socket.terminate();
  }
}

/** `count` connections that never send a byte, a real client meanwhile, then the deadline. */
export async function stalledHandshakes(server: ServerProcess, count: number): Promise<Outcome> {
  const stalled = await crowd(server.port, count);
  const opened = Date.now();
  const cpu = server.cpuMs();
  await Bun.sleep(2000);
  const cpuPct = ((server.cpuMs() - cpu) / (Date.now() - opened)) * 100;
  const joinMs = await welcomed(server.port);
  await waitFor(() => stalled.every((p) => p.closed), "every stalled socket to be closed", TLS_HANDSHAKE_MS + 20_000);
  const closedAfter = (Date.now() - opened) / 1000;
  const ok = cpuPct < 10 && joinMs < 1000 && closedAfter < TLS_HANDSHAKE_MS / 1000 + 5;
  const detail =
    `${count.toLocaleString("en")} connections that never send a byte: server CPU ${cpuPct.toFixed(1)} % meanwhile; ` +
    `a TLS client welcomed in ${joinMs} ms; every stalled socket closed ${closedAfter.toFixed(1)} s after they were open ` +
    `(deadline ${TLS_HANDSHAKE_MS / 1000} s)`;
  return { ok, detail };
}
