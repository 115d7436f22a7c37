/**
 * The fixture of the library tests: a server around `serve()` that records
 * what it says, and raw loopback clients. Both are disposables, so a test
 * holds them with `await using` / `using` (as Bun's own
 * test/js/bun/net/tcp*.test.ts do) and a failing test still closes what it
 * opened, with no per-file arrays and `afterEach`.
 */
import type { ChatEvent } from "../src/events.ts";
import { type ServeOptions, type ServerHandle, serve } from "../src/server.ts";
import { RawClient } from "./helpers.ts";

export type MessageEvent = Extract<ChatEvent, { type: "message" }>;

export interface TestServerOptions extends Omit<ServeOptions, "output" | "onStatus"> {
  /**
   * How a room hands over its plain lines (`ModeOutput.relayed`): as
   * `message` events (the default), or as bytes, many lines a call, the way
   * the CLI prints them. With "bytes" the server keeps them in `printed`.
   */
  relay?: "events" | "bytes";
}

/** A running `serve()` and everything it reported; `await using` closes it. */
export class TestServer implements AsyncDisposable {
  /** What the server's output was given, in order. */
  readonly events: ChatEvent[] = [];
  /** Status lines: refusals, time-outs. */
  readonly statuses: string[] = [];
  /** When each room line left the server: its `message` event, or its newline among the relayed bytes. */
  readonly lineTimes: number[] = [];
  /** relay "bytes": the text relayed, and how many lines each call carried. */
  printed = "";
  readonly linesPerPrint: number[] = [];
  private handle: ServerHandle | null = null;
  private readonly decoder = new TextDecoder();

  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const server = new TestServer();
    const { relay, ...rest } = options;
    server.handle = await serve({
      host: "127.0.0.1",
      port: 0,
      output: {
        event: (event) => server.event(event),
        relayed: relay === "bytes" ? (bytes, start, end) => server.print(bytes, start, end) : undefined,
      },
      onStatus: (text) => server.statuses.push(text),
      ...rest,
    });
    return server;
  }

  private constructor() {}

  private event(event: ChatEvent): void {
    this.events.push(event);
    if (event.type === "message") this.lineTimes.push(Date.now());
  }

  private print(bytes: Uint8Array, start: number, end: number): void {
    const now = Date.now();
    let lines = 0;
    for (let i = start; i < end; i++) {
      if (bytes[i] === 10) {
        this.lineTimes.push(now);
        lines++;
      }
    }
    this.linesPerPrint.push(lines);
    this.printed += this.decoder.decode(bytes.subarray(start, end), { stream: true });
  }

  private get server(): ServerHandle {
    if (!this.handle) throw new Error("the server is not started");
    return this.handle;
  }

  get port(): number {
    return this.server.port;
  }

  /** Connections open now. */
  get clients(): number {
    return this.server.clients;
  }

  /** A line from the server's console. */
  say(line: string): void {
    this.server.say(line);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** The `message` events so far. */
  messages(): MessageEvent[] {
    return this.events.filter((e): e is MessageEvent => e.type === "message");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.handle?.close();
  }
}

/** `serve()` on 127.0.0.1, port 0, recording its events and status lines. */
export function testServer(options: TestServerOptions = {}): Promise<TestServer> {
  return TestServer.start(options);
}

/** A raw client of `port`; `using` closes it. */
export function testClient(port: number, host = "127.0.0.1"): Promise<RawClient> {
  return RawClient.connect(port, host);
}

/** A room member: connected and greeted, renamed to `name` if given. */
export async function testMember(port: number, name?: string): Promise<RawClient> {
  const c = await testClient(port);
  try {
    await c.waitLine(/^\* welcome, you are guest-\d+ /);
    if (name) {
      await c.write(`/nick ${name}\n`);
      await c.waitLine(`* you are now ${name}`);
    }
  } catch (error) {
    c.close();
    throw error;
  }
  return c;
}
