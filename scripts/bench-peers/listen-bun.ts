/**
 * The floor for `chat serve`'s start-up: a compiled Bun program that only
 * listens on 127.0.0.1 and says so on stderr, as chat does. `bun run bench`
 * compiles it with chat's build flags and times both from spawn to their
 * listening line, alternately.
 */
const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
process.stderr.write(`listening on 127.0.0.1:${server.port}\n`);
