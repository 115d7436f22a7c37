/**
 * The floor for `chat serve`'s start-up: a compiled Bun program that only
 * listens on 127.0.0.1 and says so on stderr, as chat does, written to the
 * descriptor (Bun's `process.stderr` stream alone takes about 15 ms to
 * make). `bun run bench` compiles it with chat's build flags and times both
 * from spawn to their listening line, alternately.
 */
import { writeSync } from "node:fs";

const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
writeSync(2, `listening on 127.0.0.1:${server.port}\n`);
