/** Unix socket paths: a stale file left by a crashed server is replaced; a live one is an error. */
import { lstatSync, unlinkSync } from "node:fs";
import { ChatError } from "../errors.ts";

/** True when a server answers on the socket file. */
async function isLive(path: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: path, socket: { data() {} } });
    socket.terminate();
    return true;
  } catch {
    return false;
  }
}

export async function prepareUnixPath(path: string): Promise<void> {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new ChatError(`cannot listen on ${path}: a file that is not a socket is in the way`);
  if (await isLive(path)) throw new ChatError(`cannot listen on ${path}: address already in use`);
  unlinkSync(path);
}

export function removeUnixPath(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
