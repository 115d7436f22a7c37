/**
 * The bare Bun room relay `bun run bench` compares `chat`'s room with: each
 * client's complete lines go to every other client, one shared copy per
 * read, per-client queues flushed on `drain` (no names, no parsing, no
 * printing, no limits). Prints `listening PORT`.
 *
 *   bun scripts/bench-peers/room-bun.ts [PORT]   (0 = any free port)
 */
import type { Socket } from "bun";

interface Client {
  /** Bytes after the last newline, waiting for the rest of their line. */
  partial: Uint8Array;
  queue: Uint8Array[];
}

const LF = 10;
const EMPTY = new Uint8Array(0);
const clients = new Set<Socket<Client>>();

function send(socket: Socket<Client>, bytes: Uint8Array): void {
  const state = socket.data;
  if (state.queue.length > 0) {
    state.queue.push(bytes);
    return;
  }
  const written = socket.write(bytes);
  if (written >= 0 && written < bytes.length) state.queue.push(bytes.subarray(written));
}

function flush(socket: Socket<Client>): void {
  const queue = socket.data.queue;
  while (queue.length > 0) {
    const head = queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < 0) return;
    if (written < head.length) {
      queue[0] = head.subarray(written);
      return;
    }
    queue.shift();
  }
}

const server = Bun.listen<Client>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = { partial: EMPTY, queue: [] };
      clients.add(socket);
    },
    data(socket, chunk) {
      const state = socket.data;
      const last = chunk.lastIndexOf(LF);
      if (last < 0) {
        state.partial = Buffer.concat([state.partial, chunk]);
        return;
      }
      const lines = Buffer.concat([state.partial, chunk.subarray(0, last + 1)]);
      state.partial = chunk.slice(last + 1);
      for (const other of clients) if (other !== socket) send(other, lines);
    },
    drain(socket) {
      flush(socket);
    },
    close(socket) {
      clients.delete(socket);
    },
    error() {},
  },
});
console.log(`listening ${server.port}`);
