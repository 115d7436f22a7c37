/**
 * The printing peers of `bun run bench`'s echo cases: chat with its stdout a
 * regular file (it prints every line it echoes), beside `socat -v` (an echo
 * server that also writes what passes, to stderr, here a regular file). The
 * kit's socat peer is the same command (../shared/bench/peers.sh), plus -v.
 * Their files are emptied after every run, so the bench holds one run's
 * output on disk at most (printing runs at up to a few hundred MB/s).
 */
import { rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerSpec } from "./procs.ts";

/** socat is a requirement of the printing comparison only (apt-get install socat); without it the row says so. */
export const SOCAT = Bun.which("socat");

export class PrintingFiles {
  /** chat's stdout. */
  readonly chat = join(tmpdir(), `chat-bench-${process.pid}.stdout`);
  /** socat -v's stderr. */
  readonly socat = join(tmpdir(), `chat-bench-${process.pid}.socat`);

  /** Empties both (a server keeps writing at its own offset: the file is sparse up to there, taking no disk). */
  clear(): void {
    for (const file of [this.chat, this.socat]) {
      try {
        truncateSync(file, 0);
      } catch {
        // Not made yet (its server is not running).
      }
    }
  }

  remove(): void {
    for (const file of [this.chat, this.socat]) rmSync(file, { force: true });
  }
}

/** A port free now on 127.0.0.1, for a server that cannot pick one and say which. */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** `socat -v` echoing (PIPE) and forking per connection, its traffic written to `file`. */
export function socatSpec(socat: string, file: string): ServerSpec {
  const port = freePort();
  return {
    cmd: [socat, "-v", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, "PIPE"],
    announce: "none",
    port,
    stderrFile: file,
  };
}
