/**
 * The bare Bun room relay over Redis pub/sub that `bun run bench --only
 * cluster` compares chat's cluster mode with: the bench kit's
 * `bun_room_redis.ts` (../shared/bench/servers/, the floor cost of one room
 * spread over several servers), kept here so the bench runs from the repo
 * alone. Each batch of complete lines a client sends is PUBLISHed once (Bun's
 * built-in RedisClient); every server delivers what it receives on the
 * channel to its own clients, except to the client that said it. So every
 * line takes one round trip through Redis, and all servers see one order. At
 * most once (plain pub/sub): no history, no names, no presence, no recovery,
 * no limits. Changes from the kit's file: port 0 picks a free port and the
 * server prints `listening PORT` once it listens (as the other peers here do);
 * strict types.
 *
 *   bun scripts/bench-peers/room-bun-redis.ts PORT REDIS_URL [CHANNEL]
 */
import { RedisClient, type Socket } from "bun";

interface State {
  id: number;
  /** Text after the last newline, waiting for the rest of its line. */
  partial: string;
  dec: TextDecoder;
  /** Bytes waiting for the kernel, flushed on `drain` (null: none). */
  q: Uint8Array[] | null;
}

const port = Number(process.argv[2] ?? 0);
const url = process.argv[3] ?? "redis://127.0.0.1:6379";
const channel = process.argv[4] ?? "bench-room";
const node = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const clients = new Map<number, Socket<State>>();
let nextId = 1;
const enc = new TextEncoder();

const pub = new RedisClient(url);
const sub = new RedisClient(url);
await pub.connect();
await sub.connect();

function write(c: Socket<State>, out: Uint8Array): void {
  const cq = c.data.q;
  if (cq) {
    cq.push(out);
    return;
  }
  const n = c.write(out);
  if (n < 0 || n === out.length) return;
  c.data.q = [out.subarray(n)];
}

await sub.subscribe(channel, (message: string) => {
  const nl = message.indexOf("\n");
  const from = message.slice(0, nl);
  const out = enc.encode(message.slice(nl + 1));
  const sep = from.lastIndexOf(":");
  const skip = from.slice(0, sep) === node ? Number(from.slice(sep + 1)) : 0;
  for (const [id, c] of clients) if (id !== skip) write(c, out);
});

const server = Bun.listen<State>({
  hostname: "127.0.0.1",
  port,
  socket: {
    binaryType: "uint8array",
    open(s) {
      s.data = { id: nextId++, partial: "", dec: new TextDecoder(), q: null };
      clients.set(s.data.id, s);
    },
    close(s) {
      clients.delete(s.data.id);
    },
    error() {},
    data(s, d) {
      const st = s.data;
      const text = st.partial + st.dec.decode(d, { stream: true });
      const nl = text.lastIndexOf("\n");
      if (nl < 0) {
        st.partial = text;
        return;
      }
      st.partial = text.slice(nl + 1);
      pub.publish(channel, `${node}:${st.id}\n${text.slice(0, nl + 1)}`);
    },
    drain(c) {
      const q = c.data.q;
      if (!q) return;
      while (q.length > 0) {
        const b = q[0] as Uint8Array;
        const n = c.write(b);
        if (n < 0) return;
        if (n < b.length) {
          q[0] = b.subarray(n);
          return;
        }
        q.shift();
      }
      c.data.q = null;
    },
  },
});
console.log(`listening ${server.port}`);
