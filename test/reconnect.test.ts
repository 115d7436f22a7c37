/**
 * The client on a terminal when its link is lost: it says so, reconnects with
 * backoff, keeps the draft and its name, and shows the lines said while it
 * was away (as far as the server's history reaches), each once. A TCP proxy
 * between client and server cuts the link on demand while the server stays
 * up; a restart stops the server itself.
 */
import { expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { testClient } from "./fixture.ts";
import { BINARY, cliServer, runCli, until } from "./helpers.ts";
import { count, Tmux } from "./tmux.ts";

interface Side {
  peer: Socket<Side> | null;
  queue: Uint8Array[];
}

/** Forwards loopback connections to `port`; can cut them all and refuse new ones. */
class CutProxy implements Disposable {
  blocked = false;
  /** Connections turned away while blocked: the client's attempts to come back. */
  refused = 0;
  private readonly sockets = new Set<Socket<Side>>();
  readonly listener: TCPSocketListener<Side>;

  constructor(port: number) {
    const sockets = this.sockets;
    const forward = (to: Socket<Side> | null, chunk: Uint8Array, queue: Uint8Array[]) => {
      if (to) to.write(chunk);
      else queue.push(chunk.slice());
    };
    this.listener = Bun.listen<Side>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          client.data = { peer: null, queue: [] };
          if (this.blocked) {
            this.refused++;
            client.terminate();
            return;
          }
          sockets.add(client);
          Bun.connect<Side>({
            hostname: "127.0.0.1",
            port,
            socket: {
              open(server) {
                server.data = { peer: client, queue: [] };
                client.data.peer = server;
                sockets.add(server);
                for (const chunk of client.data.queue.splice(0)) server.write(chunk);
              },
              data: (server, chunk) => forward(server.data.peer, chunk, []),
              close: (server) => {
                sockets.delete(server);
                server.data.peer?.end();
              },
              error() {},
            },
          }).catch(() => client.terminate());
        },
        data: (client, chunk) => forward(client.data.peer, chunk, client.data.queue),
        close: (client) => {
          sockets.delete(client);
          client.data.peer?.end();
        },
        error() {},
      },
    });
  }

  get port(): number {
    return this.listener.port;
  }

  /** Resets every connection through the proxy (the server sees its end close too). */
  cut(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
  }

  [Symbol.dispose](): void {
    this.cut();
    this.listener.stop(true);
  }
}

const tmux = new Tmux();

function client(session: string, name: string, port: number, extra = ""): void {
  const command = `env USER=${name} NO_COLOR=1 TERM=xterm-256color '${BINARY}' connect 127.0.0.1 ${port} ${extra}`;
  tmux.start(session, command, 80, 30);
}

const lastRow = (session: string) => tmux.lastRow(session);

test("link cut while the server stays up: reconnects, keeps draft and name, shows what was missed once", async () => {
  await using server = await cliServer([], { binary: true });
  using proxy = new CutProxy(server.port);
  using peer = await testClient(server.port);
  await peer.write("/nick pat\n");
  client("cut", "rosa", proxy.port);
  await peer.waitLine("* rosa joined");
  await peer.write("before-cut\n");
  await tmux.waitScreen("cut", (s) => s.includes("before-cut"), "a line before the cut");
  tmux.type("cut", "my draft 가나다 🙂");
  await tmux.waitScreen("cut", (s) => s.includes("가나다 🙂"), "the draft");

  proxy.blocked = true;
  proxy.cut();
  await tmux.waitScreen("cut", (s) => s.includes("reconnecting"), "the client saying it reconnects");
  await peer.waitLine(/^\* rosa left/);
  await peer.write("while-away-1\nwhile-away-2\n");
  // Refused attempts meanwhile: it keeps trying (and keeps the draft).
  await until(() => proxy.refused >= 2, "two refused attempts to reconnect");
  expect(lastRow("cut")).toBe("> my draft 가나다 🙂");
  proxy.blocked = false;

  await peer.waitLine("* rosa joined", 10_000).then(() => until(() => count(peer.text, "* rosa joined") === 2, "rosa back"));
  await tmux.waitScreen("cut", (s) => s.includes("while-away-2"), "the missed lines", 10_000);
  const all = tmux.screen("cut", true);
  expect(count(all, "before-cut")).toBe(1);
  expect(count(all, "while-away-1")).toBe(1);
  expect(count(all, "while-away-2")).toBe(1);
  expect(all.indexOf("while-away-1")).toBeLessThan(all.indexOf("while-away-2"));
  expect(all).toContain("2 lines said while you were away");
  // One loss, one return: the attempts refused meanwhile are not reported one by one.
  expect(count(all, "reconnecting")).toBe(1);
  expect(count(all, "reconnected to")).toBe(1);
  expect(lastRow("cut")).toBe("> my draft 가나다 🙂");

  tmux.keys("cut", "Enter");
  await peer.waitLine("rosa: my draft 가나다 🙂");
  tmux.keys("cut", "C-d");
  expect(await tmux.exited("cut")).toBe(0);
  peer.close();
});

test("link cut in a room joined by /join: the client comes back to that room, under its name, and shows what was missed there once", async () => {
  await using server = await cliServer([], { binary: true });
  using proxy = new CutProxy(server.port);
  using peer = await testClient(server.port);
  await peer.write("/nick pat\n/join dev\n");
  await peer.waitLine(/^\* you are in room dev now /);
  using bystander = await testClient(server.port);
  await bystander.write("/nick main-only\n");
  client("roomcut", "rosa", proxy.port);
  await tmux.waitScreen("roomcut", (s) => s.includes("you are now rosa"), "rosa in the room", 10_000);
  tmux.type("roomcut", "/join dev");
  tmux.keys("roomcut", "Enter");
  await peer.waitLine("* rosa joined");
  await peer.write("before-cut in dev\n");
  await tmux.waitScreen("roomcut", (s) => s.includes("before-cut in dev"), "a line before the cut");
  // Its own line, after the last it received: the replay after the cut holds it, and it is not shown again.
  tmux.type("roomcut", "mine before the cut");
  tmux.keys("roomcut", "Enter");
  await peer.waitLine("rosa: mine before the cut");

  proxy.blocked = true;
  proxy.cut();
  await tmux.waitScreen("roomcut", (s) => s.includes("reconnecting"), "the client saying it reconnects");
  await peer.waitLine(/^\* rosa left/);
  await peer.write("while-away in dev\n");
  await bystander.write("said in main\n");
  proxy.blocked = false;

  await tmux.waitScreen("roomcut", (s) => s.includes("while-away in dev"), "the line missed in dev", 10_000);
  await until(() => count(peer.text, "* rosa joined") === 2, `rosa back in dev: ${peer.text}`);
  tmux.type("roomcut", "back in dev");
  tmux.keys("roomcut", "Enter");
  await peer.waitLine("rosa: back in dev");
  const all = tmux.screen("roomcut", true);
  expect(count(all, "before-cut in dev")).toBe(1);
  expect(count(all, "while-away in dev")).toBe(1);
  expect(count(all, "mine before the cut"), all).toBe(1);
  expect(all).toContain("1 line said while you were away");
  expect(all).not.toContain("may be missing");
  expect(all).not.toContain("said in main");
  expect(all).not.toContain("you are already in");
  // In dev it came back as rosa: never seen there as a guest.
  expect(peer.lines.filter((l) => l.startsWith("* guest-"))).toEqual([]);
  expect(bystander.lines).not.toContain("rosa: back in dev");
  // Back in main, then cut again: it comes back to main, without a word about it.
  tmux.type("roomcut", "/join main");
  tmux.keys("roomcut", "Enter");
  await until(() => count(bystander.text, "* rosa joined") === 2, "rosa in main");
  proxy.cut();
  await until(() => count(bystander.text, "* rosa left") === 2, "rosa gone from main");
  await until(() => count(bystander.text, "* rosa joined") === 3, "rosa back in main", 10_000);
  tmux.type("roomcut", "back in main");
  tmux.keys("roomcut", "Enter");
  await bystander.waitLine("rosa: back in main");
  expect(tmux.screen("roomcut", true)).not.toContain("already in");
  tmux.keys("roomcut", "C-d");
  expect(await tmux.exited("roomcut")).toBe(0);
}, 30_000);

test("server restart: the client comes back to the new server with its draft and name", async () => {
  await using first = await cliServer([], { binary: true });
  const port = first.port;
  client("restart", "remy", port);
  await tmux.waitScreen("restart", (s) => s.includes("you are now remy"), "remy in the room", 10_000);
  tmux.type("restart", "half a thought");
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  await tmux.waitScreen("restart", (s) => s.includes("reconnecting"), "the client saying it reconnects");

  await using second = runCli(["serve", "--port", String(port), "--host", "127.0.0.1"], { binary: true });
  await second.waitErr(/listening on/);
  using peer = await testClient(port);
  await peer.write("/nick sam\nsaid after the restart\n");
  await tmux.waitScreen("restart", (s) => s.includes("said after the restart"), "the new server's line", 10_000);
  await peer.waitLine(/^\* remy joined$/, 10_000);
  const all = tmux.screen("restart", true);
  expect(count(all, "said after the restart")).toBe(1);
  expect(all).toContain("server shutting down");
  expect(lastRow("restart")).toBe("> half a thought");
  tmux.keys("restart", "Enter");
  await peer.waitLine("remy: half a thought");
  tmux.keys("restart", "C-d");
  expect(await tmux.exited("restart")).toBe(0);
  peer.close();
});

test("Ctrl+C while waiting to reconnect: the first clears the draft, the second leaves", async () => {
  await using server = await cliServer([], { binary: true });
  client("wait", "wes", server.port);
  await tmux.waitScreen("wait", (s) => s.includes("you are now wes"), "wes in the room", 10_000);
  tmux.type("wait", "unsent");
  server.kill("SIGKILL");
  await tmux.waitScreen("wait", (s) => s.includes("reconnecting"), "the client saying it reconnects");
  tmux.keys("wait", "C-c");
  await until(() => lastRow("wait") === ">", "the draft cleared");
  tmux.keys("wait", "C-c");
  expect(await tmux.exited("wait")).toBe(0);
});

test("kicked, or --no-reconnect: the client does not come back", async () => {
  await using server = await cliServer([], { binary: true });
  using peer = await testClient(server.port);
  await peer.write("/nick kai\n");
  client("kick", "ken", server.port);
  await peer.waitLine("* ken joined");
  server.write("/kick ken\n");
  expect(await tmux.exited("kick")).toBe(0);
  expect(tmux.screen("kick", true)).toContain("you were kicked");
  expect(tmux.screen("kick", true)).not.toContain("reconnecting");

  client("noretry", "nia", server.port, "--no-reconnect");
  await peer.waitLine("* nia joined");
  server.kill("SIGTERM");
  expect(await tmux.exited("noretry")).toBe(0);
  expect(tmux.screen("noretry", true)).not.toContain("reconnecting");
  peer.close();
});
