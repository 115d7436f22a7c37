// The Node `net` echo server `bun run bench` compares `chat` with: pipe() gives
// back-pressure. Prints `listening PORT`.   node scripts/bench-peers/echo-node.mjs [PORT]
import net from "node:net";

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("error", () => {});
  socket.pipe(socket);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => console.log(`listening ${server.address().port}`));
