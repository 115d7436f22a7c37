/**
 * A server's rooms of its cluster other than its own (`--room`): for each,
 * a presence of its own in Redis (see Cluster.sibling), opened once however
 * many members `/join` it at once, and let go when the server's last member
 * there leaves. A room being let go is opened again only once it is gone
 * (its names there freed), so that this server is never in it twice.
 */
import { ChatError } from "../errors.ts";
import type { HubFactory } from "./hub.ts";
import type { Room } from "./room.ts";

/** A server's place in one room of its cluster (cluster/presence.ts's Cluster), as its rooms see it. */
export interface Presence {
  /** The room's name as the server was given it. */
  readonly room: string;
  readonly makeHub: HubFactory;
  readonly nextGuest: () => string | undefined;
  /** The same server's place in another room of the cluster. */
  sibling(room: string): Promise<Presence>;
  /** The cluster's rooms and how many names each holds. */
  rooms(): Promise<{ name: string; members: number }[]>;
}

export type MakeRoom = (name: string, makeHub: HubFactory, nextGuest: () => string | undefined) => Room;

export class SharedRooms {
  private readonly opening = new Map<string, Promise<Room>>();
  private readonly closing = new Map<string, Promise<void>>();
  /** The server is stopping: a room opened now is let go at once. */
  stopping = false;

  constructor(
    readonly cluster: Presence,
    /** A Room over a presence, not yet among the server's rooms. */
    private readonly make: MakeRoom,
    /** Makes it one of the server's rooms, under its key. */
    private readonly adopt: (key: string, room: Room) => Room,
  ) {}

  /** The room `key` (lower case: its name in the cluster), once this server is in it. */
  open(key: string): Promise<Room> {
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.start(key).finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  /** This server leaves the room `key`: its presence goes (its last writes sent, its name freed). */
  letGo(key: string, room: Room): void {
    const gone: Promise<void> = room
      .stopped()
      .catch(() => {})
      .finally(() => this.closing.get(key) === gone && this.closing.delete(key));
    this.closing.set(key, gone);
  }

  /** Resolves once every room let go is gone. */
  async gone(): Promise<void> {
    await Promise.all(this.closing.values());
  }

  private async start(key: string): Promise<Room> {
    await this.closing.get(key);
    const presence = await this.cluster.sibling(key);
    const room = this.make(key, presence.makeHub, presence.nextGuest);
    try {
      await room.start();
    } catch (error) {
      await room.stopped().catch(() => {});
      throw error;
    }
    if (!this.stopping) return this.adopt(key, room);
    this.letGo(key, room);
    throw new ChatError("the server is stopping");
  }
}
