/**
 * Room lines on their way to many members. Lines for the same audience
 * (everyone but one sender, or everyone) are encoded one after another into
 * one buffer, and each batch goes to each member as one shared chunk: a read
 * that brings a thousand lines costs one send per member, not a thousand.
 *
 * The room flushes before anything whose order matters (a line to one
 * member, a member joining or leaving) and at the end of each event it
 * handles; a batch never waits past the current event-loop turn.
 */

/** A batch is sealed at this size, so flow control (checked per send) still acts within a large read. */
export const FANOUT_BATCH_BYTES = 32 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit. */
const UTF8_MAX_PER_UNIT = 3;

export class Fanout<Member> {
  private buffer = Buffer.allocUnsafe(FANOUT_BATCH_BYTES * 2);
  private used = 0;
  private except: Member | undefined = undefined;
  private scheduled = false;

  /** `deliver` sends a sealed batch (its own copy) to every member but `except`. */
  constructor(private readonly deliver: (bytes: Uint8Array, except: Member | undefined) => void) {}

  /** Queues `text` (a whole line with its newline) for every member but `except`. */
  add(text: string, except?: Member): void {
    const most = text.length * UTF8_MAX_PER_UNIT;
    if (this.used > 0 && (except !== this.except || this.used + most > this.buffer.length)) this.flush();
    if (most > this.buffer.length) this.buffer = Buffer.allocUnsafe(most);
    this.except = except;
    this.used += this.buffer.write(text, this.used, "utf8");
    if (this.used >= FANOUT_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is gathered. Safe to re-enter: a delivery that broadcasts starts a new batch. */
  flush(): void {
    this.scheduled = false;
    if (this.used === 0) return;
    // A copy that receivers' queues may keep; the buffer is reused at once.
    const bytes = new Uint8Array(this.buffer.subarray(0, this.used));
    const except = this.except;
    this.used = 0;
    this.except = undefined;
    this.deliver(bytes, except);
  }
}
