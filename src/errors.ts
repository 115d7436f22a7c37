/** Expected failures carry their exit code: 1 runtime, 2 usage. */
export class ChatError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "ChatError";
  }
}

export class UsageError extends ChatError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ENOTFOUND: "unknown host",
  EAI_NONAME: "unknown host",
  EAI_AGAIN: "host name lookup failed",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOENT: "no such file",
  EPIPE: "connection closed",
};

/** A short human reason for a system error (`connection refused`), else its message. */
export function reason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && REASONS[code]) return REASONS[code];
    return error.message.replace(/^error:\s*/i, "");
  }
  return String(error);
}

/** macOS's AirPlay Receiver listens on these by default, so a Mac user's first `chat serve` may find 5000 taken. */
const AIRPLAY_PORTS = [5000, 7000];

/** What to try when a TCP port is taken. */
export function portInUseHint(port: number, platform: NodeJS.Platform = process.platform): string {
  const hint = "is another server running? try --port 0 or another port";
  if (platform !== "darwin" || !AIRPLAY_PORTS.includes(port)) return hint;
  return `${hint}; macOS's AirPlay Receiver uses port ${port}: turn it off in System Settings → General → AirDrop & Handoff`;
}
