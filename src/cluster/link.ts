/**
 * The server's link to Redis: one client for commands (auto-pipelined, in
 * order) and one of its own for the blocking read, so that a waiting
 * `XREAD BLOCK` never holds up a command's reply. Bun's client is used with
 * its own reconnecting and offline queue off: a drop is seen at once, both
 * clients are replaced, and the hub decides what to send again (commands
 * in flight when a link drops may or may not have run). Every call has a
 * deadline: a link that hangs is a link lost.
 */
import { RedisClient } from "bun";
import { reason } from "../errors.ts";
import type { RedisAddress } from "./url.ts";

/** A command's reply may take this long before the link is taken as lost. */
export const CALL_TIMEOUT_MS = 5000;

/** Raised when the link is down or drops during a call. */
export class LinkDown extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkDown";
  }
}

export type Reply = unknown;

export class RedisLink {
  private closed = false;
  /** Set once the link dropped: the clients are dead and replaced by `open` again. */
  down: string | null = null;
  /** Told once per drop, with the reason. */
  onDown: (why: string) => void = () => {};

  private constructor(
    readonly address: RedisAddress,
    private readonly commands: RedisClient,
    private readonly reader: RedisClient,
  ) {
    for (const client of [commands, reader]) {
      client.onclose = (error) => this.lost(error ? reason(error) : "connection closed");
    }
  }

  /** Connects both clients within `timeoutMs`; throws with a short reason. */
  static async open(address: RedisAddress, timeoutMs: number): Promise<RedisLink> {
    const make = () =>
      new RedisClient(address.url, {
        autoReconnect: false,
        enableOfflineQueue: false,
        connectionTimeout: timeoutMs,
        tls: address.tls || undefined,
      });
    const commands = make();
    const reader = make();
    try {
      await withDeadline(Promise.all([commands.connect(), reader.connect()]), timeoutMs, "timed out");
      // A server that takes the connection but does not speak Redis (or refuses the password) fails here.
      await withDeadline(commands.send("PING", []), timeoutMs, "no answer to PING");
    } catch (error) {
      commands.close();
      reader.close();
      throw new Error(await explain(address, error));
    }
    return new RedisLink(address, commands, reader);
  }

  /** A command on the commands client. */
  call(command: string, args: string[]): Promise<Reply> {
    return this.run(this.commands, command, args, CALL_TIMEOUT_MS);
  }

  /** A blocking read on the reader's client (`blockMs` is its BLOCK). */
  read(args: string[], blockMs: number): Promise<Reply> {
    return this.run(this.reader, "XREAD", args, blockMs + CALL_TIMEOUT_MS);
  }

  /** The link dropped (or hung): both clients go; `onDown` is told once. */
  lost(why: string): void {
    if (this.down !== null || this.closed) return;
    this.down = why;
    this.commands.close();
    this.reader.close();
    this.onDown(why);
  }

  close(): void {
    this.closed = true;
    this.commands.close();
    this.reader.close();
  }

  private async run(client: RedisClient, command: string, args: string[], deadline: number): Promise<Reply> {
    if (this.down !== null || this.closed) throw new LinkDown(this.down ?? "closed");
    try {
      return await withDeadline(client.send(command, args), deadline, `no reply to ${command} within ${deadline / 1000}s`);
    } catch (error) {
      if (isLinkError(error)) {
        this.lost(reason(error));
        throw new LinkDown(reason(error));
      }
      throw error;
    }
  }
}

/** A reply Redis gave (an error it answered with) is not a link problem; anything else is. */
function isLinkError(error: unknown): boolean {
  if (error instanceof Deadline) return true;
  return (error as { code?: string }).code !== "ERR_REDIS_SERVER_ERROR";
}

class Deadline extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deadline(what)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Why a connection failed, in a few words: Bun's client says only
 * "Connection closed" for a refused connection, so the address is tried
 * once more with a plain socket to find out what happened.
 */
async function explain(address: RedisAddress, error: unknown): Promise<string> {
  const said = reason(error);
  if (!/connection closed/i.test(said)) return said;
  const [host = "", port = ""] = splitLabel(address.label);
  try {
    const socket = await Bun.connect({ hostname: host, port: Number(port), socket: { data() {} } });
    socket.end();
    return address.tls ? "connection closed (is it a TLS port? rediss:// is TLS)" : "connection closed by the server";
  } catch (probe) {
    return reason(probe);
  }
}

function splitLabel(label: string): [string, string] {
  const at = label.lastIndexOf(":");
  return [label.slice(0, at).replace(/^\[|\]$/g, ""), label.slice(at + 1)];
}
