/**
 * What the user sends, held back until the connection may carry it: until a
 * room has answered (and, from a pipe, accepted the name), so that nothing
 * goes out before `/events` and `/nick`. From a pipe it also reads stdin,
 * with back-pressure, and half-closes at its end.
 */
import type { ClientHandle } from "./client.ts";

/** Stop reading stdin while this much is waiting to be sent… */
const INPUT_HIGH_WATER = 1024 * 1024;
/** …and read again once it is down to this: not on every drain. */
const INPUT_LOW_WATER = INPUT_HIGH_WATER / 4;

export class InputGate {
  private held: Uint8Array[] | null = [];
  private inputDone = false;
  /** Undoes readStdin. */
  private unread: (() => void) | null = null;

  constructor(private client: () => ClientHandle) {}

  get holding(): boolean {
    return this.held !== null;
  }

  /** A new connection: hold again until it is ready. */
  hold(): void {
    this.held ??= [];
  }

  /** Drops what was held (the name was refused: nothing may be sent). */
  discard(): void {
    if (this.held) this.held = [];
  }

  send(bytes: Uint8Array): void {
    if (this.held) this.held.push(bytes);
    else this.client().send(bytes);
  }

  /** Lets held and further input through; half-closes if input already ended. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    for (const chunk of held) this.client().send(chunk);
    if (this.inputDone) this.client().finish();
  }

  /** Copies stdin (a pipe or file) to the server. */
  readStdin(): void {
    const stdin = process.stdin;
    const data = (chunk: Buffer) => {
      this.send(chunk);
      const client = this.client();
      if (client.queued > INPUT_HIGH_WATER) this.wait(client, stdin);
    };
    const done = () => {
      this.inputDone = true;
      if (!this.held) this.client().finish();
    };
    stdin.on("data", data);
    stdin.on("end", done);
    stdin.on("error", done);
    this.unread = () => {
      stdin.off("data", data);
      stdin.off("end", done);
      stdin.off("error", done);
      stdin.pause();
    };
  }

  /** Stops reading stdin (the session is over): it holds nothing open any more. */
  close(): void {
    this.unread?.();
    this.unread = null;
  }

  /** Pauses stdin until the connection has sent enough of what is queued. */
  private wait(client: ClientHandle, stdin: NodeJS.ReadStream): void {
    stdin.pause();
    const drained = () => {
      if (client.queued > INPUT_LOW_WATER) return;
      client.removeDrainListener(drained);
      if (this.unread) stdin.resume();
    };
    client.addDrainListener(drained);
  }
}
