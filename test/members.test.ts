/** The room's sorted names, kept by insertion: always what a fresh sort gives. */
import { expect, test } from "bun:test";
import type { Conn } from "../src/net/conn.ts";
import { Members } from "../src/room/members.ts";

const conn = { peer: "127.0.0.1:1", socket: { remoteAddress: "127.0.0.1" } } as unknown as Conn;

test("joins, leaves and renames in any order keep names() sorted, as a fresh sort gives it", () => {
  const members = new Members("server");
  const fresh = () => [...members].map((m) => m.name).sort((a, b) => a.localeCompare(b));
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const names = ["alice", "Bob", "carol", "dave-2", "Émile", "zed", "a.b", "guest-10", "guest-9", "_x"];
  for (let step = 0; step < 2000; step++) {
    members.names(); // the cached list exists, so every change below updates it rather than starting again
    const all = [...members].filter((m) => m.conn);
    const pick = random(3);
    if (pick === 0 || all.length === 0) members.add(conn, 0, names[random(names.length)]);
    else if (pick === 1) {
      const m = all[random(all.length)];
      if (m) members.remove(m);
    } else {
      const m = all[random(all.length)];
      const name = `${names[random(names.length)]}${random(50)}`;
      if (m && !members.find(name)) members.rename(m, name);
    }
    expect(members.names()).toEqual(fresh());
  }
});
