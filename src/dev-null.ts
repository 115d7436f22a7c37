/**
 * Is an output discarded? A descriptor is /dev/null when it is a character
 * device with /dev/null's device and inode numbers: names prove nothing (a
 * symlink to /dev/null is /dev/null; /dev/zero, a terminal or a file named
 * "null" are not). GNU tar decides the same way that its archive is
 * /dev/null, and then does not read the files it would write there.
 */
import { fstatSync, statSync } from "node:fs";

export const DEV_NULL = "/dev/null";
export const STDOUT_FD = 1;

/** True when `fd` is `devNull` (the same device and inode); false for anything else, or when either cannot be read. */
export function isDevNull(fd: number, devNull = DEV_NULL): boolean {
  try {
    const target = fstatSync(fd);
    if (!target.isCharacterDevice()) return false;
    const nul = statSync(devNull);
    return target.dev === nul.dev && target.ino === nul.ino;
  } catch {
    // No such descriptor, or no /dev/null (Windows): nothing is known to be discarded.
    return false;
  }
}
