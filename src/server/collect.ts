/**
 * A full garbage collection once a crowd has left. JavaScriptCore collects its old generation
 * only when the heap has grown well past what was live at the last full collection (tens of
 * MiB), so the objects of members who came and went pile up until then: about 5 MiB per
 * thousand room members. A server that a thousand clients joined and left six times over held
 * 40 MiB of heap and malloc where 13 were in use. One synchronous collection after a crowd is
 * gone (12–15 ms for a thousand members' objects on a busy 2-core VM) gives that back; it
 * waits for a tick in which no connection closed, and comes at most once per
 * COLLECT_AFTER_CLOSES closes, so steady traffic never meets it.
 */

/** Connections closed since the last collection before the next one. */
export const COLLECT_AFTER_CLOSES = 1000;

export class CrowdCollector {
  private closes = 0;
  private closedThisTick = false;

  constructor(private readonly collect: () => void = () => Bun.gc(true)) {}

  /** An admitted connection closed. */
  closed(): void {
    this.closes++;
    this.closedThisTick = true;
  }

  /** The server's tick: collects when enough connections closed, none of them since the last tick. */
  tick(): void {
    if (this.closedThisTick) {
      this.closedThisTick = false;
      return;
    }
    if (this.closes < COLLECT_AFTER_CLOSES) return;
    this.closes = 0;
    this.collect();
  }
}
