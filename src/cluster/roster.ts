/** The members connected to the room's other servers, as this server last read them. */
import { nameKey } from "../room/names.ts";

export interface Elsewhere {
  name: string;
  node: string;
}

export class Roster {
  private readonly byKey = new Map<string, Elsewhere>();
  /** Grows with every change: a cache of names made from this roster is fresh while it is the same. */
  version = 0;

  get(name: string): Elsewhere | undefined {
    return this.byKey.get(nameKey(name));
  }

  /** `name` is on `node`; true when that was new. */
  add(name: string, node: string): boolean {
    const had = this.byKey.get(nameKey(name));
    this.byKey.set(nameKey(name), { name, node });
    this.version++;
    return had?.node !== node || had.name !== name;
  }

  /** `name` left `node` (a name another server holds by now stays). */
  remove(name: string, node: string): void {
    const had = this.byKey.get(nameKey(name));
    if (had?.node !== node) return;
    this.byKey.delete(nameKey(name));
    this.version++;
  }

  rename(from: string, to: string, node: string): void {
    this.remove(from, node);
    this.add(to, node);
  }

  /** Every member of `node` goes (that server was lost or came back): the names it held. */
  dropNode(node: string): void {
    for (const [key, e] of this.byKey) if (e.node === node) this.byKey.delete(key);
    this.version++;
  }

  /** Starts again from what Redis holds (`names`' values: `NODE\tSERIAL\tANNOUNCED\tNAME`): other servers' announced members. */
  load(values: readonly string[], self: string): void {
    this.byKey.clear();
    for (const value of values) {
      const [node = "", , announced, name = ""] = value.split("\t");
      if (node && name && node !== self && announced === "1") this.byKey.set(nameKey(name), { name, node });
    }
    this.version++;
  }

  names(): string[] {
    return [...this.byKey.values()].map((e) => e.name);
  }
}
