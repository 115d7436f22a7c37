/**
 * `/ignore`: who ignores whom, by name. The server leaves an ignored
 * member's room lines, actions and private messages out of what it sends to
 * those who ignore it (so a client that knows nothing of ignoring, nc, is
 * spared too); its notices (joins, renames, away) still go to everyone.
 *
 * Kept both ways: each member's own set (Member.ignoring, for its private
 * messages) and, per ignored name, the members that ignore it (for the
 * room's shared batches, see Fanout). A room where nobody ignores anyone
 * pays one size check per line. An ignore follows the ignored member through
 * its renames, stays on the name when it leaves (whoever comes back under it
 * is still ignored), and lasts as long as the ignoring member is connected.
 */
import type { Member } from "./members.ts";
import { nameKey } from "./names.ts";

/** A member may ignore this many names at once: each costs it a copy of the batches that name's lines are in. */
export const IGNORE_MOST = 100;

export class Ignores {
  /** Name key of an ignored name → the members that ignore it. */
  private readonly by = new Map<string, Member[]>();

  /** The members that ignore whoever says lines as `name`; undefined when none does (the usual case, checked first). */
  of(name: string): readonly Member[] | undefined {
    return this.by.size === 0 ? undefined : this.by.get(nameKey(name));
  }

  /** Whether `m` does not take what `name` says. */
  hides(m: Member, name: string): boolean {
    return m.ignoring?.has(nameKey(name)) === true;
  }

  /** `m` ignores `name` from now on; false when it may ignore no more. */
  add(m: Member, name: string): boolean {
    const key = nameKey(name);
    m.ignoring ??= new Map();
    if (m.ignoring.has(key)) return true;
    if (m.ignoring.size >= IGNORE_MOST) return false;
    m.ignoring.set(key, name);
    const list = this.by.get(key);
    if (list) list.push(m);
    else this.by.set(key, [m]);
    return true;
  }

  /** `m` takes what `name` says again; false when it did not ignore it. */
  remove(m: Member, name: string): boolean {
    const key = nameKey(name);
    if (!m.ignoring?.delete(key)) return false;
    const left = (this.by.get(key) ?? []).filter((x) => x !== m);
    if (left.length > 0) this.by.set(key, left);
    else this.by.delete(key);
    return true;
  }

  /** `m` is gone: it ignores nobody any more. */
  forget(m: Member): void {
    for (const key of [...(m.ignoring?.keys() ?? [])]) this.remove(m, key);
    m.ignoring = null;
  }

  /** The ignored member `from` is called `to` now: its ignorers go on ignoring it. */
  renamed(from: string, to: string): void {
    if (this.by.size === 0) return;
    const list = this.by.get(nameKey(from));
    if (!list || nameKey(from) === nameKey(to)) return;
    for (const m of [...list]) {
      this.remove(m, from);
      this.add(m, to);
    }
  }
}
