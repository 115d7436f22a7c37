/**
 * The bare Bun echo server `bun run bench` compares `chat` with: what a Bun
 * program that only echoes can do (no framing, no printing). Writes back in
 * the data handler; what the kernel does not take is queued and written on
 * `drain`; reading pauses while too much waits. Prints `listening PORT`.
 *
 *   bun scripts/bench-peers/echo-bun.ts [PORT]   (0 = any free port)
 */
import type { Socket } from "bun";

/** Stop reading from a client with this much waiting for it. */
const HIGH_WATER = 1024 * 1024;

interface Pending {
  queue: Uint8Array[];
  bytes: number;
}

function flush(socket: Socket<Pending>): void {
  const state = socket.data;
  while (state.queue.length > 0) {
    const head = state.queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < 0) return;
    state.bytes -= written;
    if (written < head.length) {
      state.queue[0] = head.subarray(written);
      return;
    }
    state.queue.shift();
  }
  socket.resume();
}

const server = Bun.listen<Pending>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = { queue: [], bytes: 0 };
    },
    data(socket, chunk) {
      const state = socket.data;
      let rest = chunk;
      if (state.queue.length === 0) {
        const written = socket.write(chunk);
        if (written < 0 || written === chunk.length) return;
        rest = chunk.subarray(written);
      }
      // The read buffer is not ours to keep: a copy waits.
      state.queue.push(rest.slice());
      state.bytes += rest.length;
      if (state.bytes > HIGH_WATER) socket.pause();
    },
    drain(socket) {
      flush(socket);
    },
    error() {},
  },
});
console.log(`listening ${server.port}`);
