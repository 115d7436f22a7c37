/**
 * Guest names in a cluster room: numbers come from one room-wide counter in
 * Redis, a block at a time, so guests on two servers never share a name and
 * a newcomer gets its name at once (no round trip).
 */
import type { RoomKeys } from "./keys.ts";
import type { RedisLink } from "./link.ts";
import { reserveGuests } from "./node.ts";

/** Guest numbers reserved at a time. */
const GUEST_BLOCK = 1000;

export class GuestNames {
  /** Reserved numbers, in blocks: `next` to `end` of each. */
  private readonly blocks: { next: number; end: number }[] = [];
  private refilling = false;

  constructor(
    private readonly keys: RoomKeys,
    private readonly link: () => RedisLink,
  ) {}

  /** A guest name from the reserved numbers; undefined while none is left (the link is down). */
  next(): string | undefined {
    while (this.blocks[0] && this.blocks[0].next > this.blocks[0].end) this.blocks.shift();
    const left = this.blocks.reduce((sum, b) => sum + b.end - b.next + 1, 0);
    if (left < GUEST_BLOCK / 4) void this.refill();
    const block = this.blocks[0];
    return block ? `guest-${block.next++}` : undefined;
  }

  /** Reserves another block (nothing when the link is down: names fall back until it is back). */
  async refill(): Promise<void> {
    const link = this.link();
    if (this.refilling || link.down !== null) return;
    this.refilling = true;
    try {
      const first = await reserveGuests(link, this.keys, GUEST_BLOCK);
      this.blocks.push({ next: first, end: first + GUEST_BLOCK - 1 });
    } catch {
      // Tried again at the next name.
    } finally {
      this.refilling = false;
    }
  }
}
