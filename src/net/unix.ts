/** Unix socket paths: a stale file left by a crashed server is replaced; a live one is an error. */
import { lstatSync, unlinkSync } from "node:fs";
import { ChatError, reason } from "../errors.ts";

/** sockaddr_un.sun_path holds 108 bytes on Linux and 104 on macOS, the final NUL included. */
const MAX_PATH_BYTES = process.platform === "linux" ? 107 : 103;

/**
 * True when a server answers on the socket file, false when nobody listens
 * (a crashed server's leftover). Any other failure (permission) is not proof
 * that the socket is stale, so it is reported rather than replaced.
 */
async function isLive(path: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: path, socket: { data() {} } });
    socket.terminate();
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED" || code === "ENOENT") return false;
    throw new ChatError(`cannot listen on ${path}: ${reason(error)}`);
  }
}

export async function prepareUnixPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    throw new ChatError(`cannot listen on ${path}: path too long for a unix socket (at most ${MAX_PATH_BYTES} bytes)`);
  }
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new ChatError(`cannot listen on ${path}: a file that is not a socket is in the way`);
  if (await isLive(path)) throw new ChatError(`cannot listen on ${path}: address already in use`);
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ChatError(`cannot listen on ${path}: cannot remove the stale socket file: ${reason(error)}`);
    }
  }
}

export function removeUnixPath(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
