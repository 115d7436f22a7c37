/**
 * A server in a cluster room, over time: it connects and takes its server
 * name, reads the room (names, recent lines) before it listens, renews its
 * lease and takes lost servers out, reads the room's stream for as long as
 * it runs, and rides out a lost link: its members stay and are told, it
 * reconnects with backoff, registers again (and its members, when it was
 * taken for lost or Redis lost its data), sends what was not written, and
 * catches up with the stream from where it was.
 */
import { randomBytes } from "node:crypto";
import { ChatError, reason } from "../errors.ts";
import { Retry } from "../retry.ts";
import type { HubFactory } from "../room/hub.ts";
import { GuestNames } from "./guests.ts";
import { type RoomKeys, roomKeys } from "./keys.ts";
import { LinkDown, RedisLink } from "./link.ts";
import {
  appliedBatch,
  BEAT_MS,
  beat,
  defaultNode,
  LEASE_MS,
  type Registration,
  type RoomCount,
  reap,
  recentLines,
  register,
  roomCounts,
  roomState,
  streamLength,
  unregister,
} from "./node.ts";
import { StreamReader } from "./reader.ts";
import { RedisHub } from "./redis-hub.ts";
import type { RedisAddress } from "./url.ts";

/** How long a stopping server waits for its last writes. */
const STOP_DRAIN_MS = 1500;
/** After a lost link, how long beyond a lease this server waits before taking others for lost (the longest reconnect wait and then some). */
const RETURN_GRACE_MS = 7000;

export interface ClusterOptions {
  redis: RedisAddress;
  room: string;
  /** The server's name in the room, when asked for (default: the host name, made unique). */
  node?: string;
  /** The name is this server's elsewhere (see `sibling`): made unique when a live server holds it here, not refused. */
  nodeTaken?: "suffix";
  /** How long connecting to Redis may take. */
  timeoutMs: number;
  history: number;
  status: (text: string) => void;
}

export class Cluster {
  private readonly keys: RoomKeys;
  private readonly maxlen: string;
  private hub: RedisHub | null = null;
  private beatTimer: Timer | null = null;
  /** Lost servers are taken out only once this server had a lease's time to see the others renew. */
  private reapFrom = 0;
  private stopping = false;
  private readonly guests: GuestNames;
  private readonly reader: StreamReader;
  private comingBack: Promise<boolean> | null = null;
  private node: string;
  private epoch: number;

  private constructor(
    private readonly options: ClusterOptions,
    private link: RedisLink,
    private readonly boot: string,
    registration: Registration,
  ) {
    this.keys = roomKeys(options.room);
    this.maxlen = streamLength(options.history);
    this.node = registration.node;
    this.epoch = registration.epoch;
    this.guests = new GuestNames(this.keys, () => this.link);
    this.reader = new StreamReader(this.keys, {
      apply: (e) => this.requireHub().apply(e),
      flush: () => this.requireHub().delivery.flush(),
      behind: () => this.requireHub().behind,
      status: options.status,
    });
  }

  /** Connects and takes a server name; fails with one line (exit 1) when Redis cannot be reached. */
  static async open(options: ClusterOptions): Promise<Cluster> {
    let link: RedisLink;
    try {
      link = await RedisLink.open(options.redis, options.timeoutMs);
    } catch (error) {
      throw new ChatError(`cannot connect to redis at ${options.redis.label}: ${reason(error)}`);
    }
    try {
      // Names this run of the server: in every line it writes (so a line sent twice is seen twice by no one).
      const boot = randomBytes(6).toString("hex");
      const want = options.node ?? defaultNode();
      const asked = options.node !== undefined && options.nodeTaken !== "suffix";
      const reg = await register(link, roomKeys(options.room), want, boot, asked, LEASE_MS + 1000, streamLength(options.history));
      return new Cluster(options, link, boot, reg);
    } catch (error) {
      link.close();
      throw error;
    }
  }

  get nodeName(): string {
    return this.node;
  }

  get room(): string {
    return this.options.room;
  }

  /** This server in another room (`/join`): a presence of its own (link, lease, reader); its status lines name the room. */
  sibling(room: string): Promise<Cluster> {
    const status = (text: string) => this.options.status(`room ${room}: ${text}`);
    return Cluster.open({ ...this.options, room, node: this.node, nodeTaken: "suffix", status });
  }

  /** The cluster's rooms with how many names each holds (consoles included); rooms no one is in are left out, this one never. */
  rooms(): Promise<RoomCount[]> {
    return roomCounts(this.link, this.keys.room);
  }

  /** The room's hub, for Room (see hub.ts). */
  readonly makeHub: HubFactory = (parts) => {
    const hub = new RedisHub(
      parts,
      {
        keys: this.keys,
        boot: this.boot,
        maxlen: this.maxlen,
        node: () => this.node,
        fenced: () => void this.comeBack(this.link),
        start: () => this.start(),
        stop: () => this.stop(),
      },
      this.epoch,
      () => this.nextGuest() ?? `guest-${Math.floor(Math.random() * 1e9)}`,
    );
    this.hub = hub;
    return { hub, delivery: hub.delivery };
  };

  /** A guest name from this server's reserved numbers (undefined while none is left). */
  readonly nextGuest = (): string | undefined => this.guests.next();

  /** Reads the room, registers the console, and starts reading the stream. */
  private async start(): Promise<void> {
    const hub = this.requireHub();
    const link = this.link;
    link.onDown = (why) => this.down(why);
    hub.publisher.use(link);
    await this.guests.refill();
    await this.readState(link);
    const { lines, newest } = await recentLines(link, this.keys, Math.max(this.options.history, 1));
    for (const e of lines) hub.apply(e, true);
    this.reader.logAt = newest;
    await hub.claimConsole();
    this.reapFrom = Date.now() + LEASE_MS;
    this.startBeat(link);
    void this.read(link);
    this.options.status("redis connected");
  }

  /** Every connection is closed (their leaves are queued): the last writes go, then the name. */
  private async stop(): Promise<void> {
    this.stopping = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    const hub = this.requireHub();
    hub.leave(hub.console, "shutdown");
    const link = this.link;
    if (link.down === null && (await hub.publisher.drain(STOP_DRAIN_MS))) {
      await unregister(link, this.keys, this.node, this.boot).catch(() => {});
    }
    const lost = hub.publisher.abandon().filter((op) => op.op === "message" || op.op === "action").length;
    if (lost > 0) this.options.status(`${lost} lines were not sent: no link to redis`);
    link.close();
  }

  private startBeat(link: RedisLink): void {
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = setInterval(async () => {
      if (this.link !== link || link.down !== null) return;
      try {
        if (!(await beat(link, this.keys, this.node, this.boot))) void this.comeBack(link);
        else if (Date.now() >= this.reapFrom) await reap(link, this.keys, this.maxlen);
      } catch (error) {
        if (!(error instanceof LinkDown)) this.options.status(`redis: ${reason(error)}`);
      }
    }, BEAT_MS);
  }

  private read(link: RedisLink): Promise<void> {
    return this.reader.run(
      link,
      () => this.node,
      () => this.link === link && !this.stopping,
    );
  }

  /** The link dropped: members stay and are told; writes wait; reconnecting starts. */
  private down(why: string): void {
    if (this.stopping) return;
    const hub = this.requireHub();
    this.options.status(`redis link lost: ${why}`);
    hub.publisher.pause();
    hub.notice({ type: "notice", text: "lost the link to the rest of the room; reconnecting" });
    hub.delivery.flush();
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const retry = new Retry();
    while (!this.stopping) {
      await retry.wait();
      let link: RedisLink;
      try {
        link = await RedisLink.open(this.options.redis, this.options.timeoutMs);
      } catch {
        continue;
      }
      this.link = link;
      link.onDown = (why) => this.down(why);
      if (await this.comeBack(link)) {
        this.options.status("redis link restored");
        this.requireHub().notice({ type: "notice", text: "link restored" });
        this.requireHub().delivery.flush();
        return;
      }
      if (link.down !== null) continue;
    }
  }

  /**
   * Puts this server back in the room over `link`: after a lost link, or
   * when Redis says it was taken for lost (fenced). Its members are
   * registered again when their names are gone; a Redis that came back
   * empty starts the room's history again, with a notice.
   */
  private comeBack(link: RedisLink): Promise<boolean> {
    this.comingBack ??= this.rejoin(link).finally(() => {
      this.comingBack = null;
    });
    return this.comingBack;
  }

  private async rejoin(link: RedisLink): Promise<boolean> {
    const hub = this.requireHub();
    hub.publisher.pause();
    try {
      let reg = await register(link, this.keys, this.node, this.boot, true, 0, this.maxlen).catch(() => null);
      reg ??= await register(link, this.keys, this.node, this.boot, false, 0, this.maxlen);
      if (reg.node !== this.node) {
        this.node = reg.node;
        this.reader.inboxAt = "0-0";
      }
      if (reg.epoch !== this.epoch) this.restart(reg.epoch);
      await this.readState(link);
      const first = reg.had ? [] : hub.rejoin();
      await hub.publisher.resume(link, async () => Math.max(await appliedBatch(link, this.keys, this.boot), hub.seenOwn), first);
      // The others lost Redis too, and come back within their longest backoff: they are not taken for lost meanwhile.
      this.reapFrom = Date.now() + LEASE_MS + RETURN_GRACE_MS;
      this.startBeat(link);
      void this.read(link);
      return true;
    } catch (error) {
      if (!(error instanceof LinkDown)) link.lost(reason(error));
      return false;
    }
  }

  /** Who is in the room, its topic and its bans, as Redis holds them. */
  private async readState(link: RedisLink): Promise<void> {
    const hub = this.requireHub();
    const state = await roomState(link, this.keys);
    hub.roster.load(state.names, state.info, this.node);
    hub.changes.load(state.topic, state.bans);
  }

  /** Redis lost the room (restarted empty): the stream starts again, and the room is told. */
  private restart(epoch: number): void {
    const hub = this.requireHub();
    this.epoch = epoch;
    this.reader.reset();
    hub.kept.reset(epoch);
    hub.notice({ type: "notice", text: "redis lost the room's state (restarted empty): history before now is gone" });
  }

  private requireHub(): RedisHub {
    if (!this.hub) throw new Error("the cluster room has no hub yet");
    return this.hub;
  }
}
