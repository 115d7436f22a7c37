/**
 * Reading a cluster room back: the room's stream and this server's inbox,
 * with one `XREAD BLOCK` on the link's own reading client, from the last
 * entry applied, for as long as the link lasts. So a server that was away
 * catches up in order from where it was.
 */
import { reason } from "../errors.ts";
import { inboxKey, type RoomKeys } from "./keys.ts";
import { LinkDown, type RedisLink } from "./link.ts";
import { type Entry, streams } from "./stream.ts";

/** How long one XREAD waits for the stream before asking again. */
const READ_BLOCK_MS = 2000;
/** Entries taken per read. */
const READ_COUNT = 1000;
/** How often a reader held up by its own members looks again. */
const BEHIND_POLL_MS = 5;

export interface ReaderTarget {
  /** One entry, in order. */
  apply(e: Entry): void;
  /** After each read's entries: what they gathered goes out. */
  flush(): void;
  /** This server's members are behind (receivers congested): the stream waits in Redis until they catch up. */
  behind(): boolean;
  status(text: string): void;
}

export class StreamReader {
  /** The last entry applied from the room's stream, and from the inbox. */
  logAt = "0-0";
  inboxAt = "0-0";
  /** The link a read loop runs on: one loop at a time (a server that registers again keeps its loop). */
  private running: RedisLink | null = null;

  constructor(
    private readonly keys: RoomKeys,
    private readonly target: ReaderTarget,
  ) {}

  /** Starts again from the stream's beginning (Redis lost the room). */
  reset(): void {
    this.logAt = "0-0";
    this.inboxAt = "0-0";
  }

  /** Reads until `link` drops or `going()` says stop; `node()` names the inbox. */
  async run(link: RedisLink, node: () => string, going: () => boolean): Promise<void> {
    if (this.running === link) return;
    this.running = link;
    try {
      await this.loop(link, node, going);
    } finally {
      if (this.running === link) this.running = null;
    }
  }

  private async loop(link: RedisLink, node: () => string, going: () => boolean): Promise<void> {
    while (link.down === null && going()) {
      if (this.target.behind()) {
        await Bun.sleep(BEHIND_POLL_MS);
        continue;
      }
      const inbox = inboxKey(this.keys, node());
      let reply: unknown;
      try {
        const args = [
          "BLOCK",
          String(READ_BLOCK_MS),
          "COUNT",
          String(READ_COUNT),
          "STREAMS",
          this.keys.log,
          inbox,
          this.logAt,
          this.inboxAt,
        ];
        reply = await link.read(args, READ_BLOCK_MS);
      } catch (error) {
        if (error instanceof LinkDown) return;
        this.target.status(`redis read failed: ${reason(error)}`);
        await Bun.sleep(1000);
        continue;
      }
      const byKey = streams(reply);
      for (const e of byKey.get(this.keys.log) ?? []) {
        this.target.apply(e);
        this.logAt = e.id;
      }
      for (const e of byKey.get(inbox) ?? []) {
        this.target.apply(e);
        this.inboxAt = e.id;
      }
      this.target.flush();
    }
  }
}
