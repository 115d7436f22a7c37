/**
 * The process's limit on open files (RLIMIT_NOFILE) and how many are open.
 * Bun has no getrlimit/setrlimit, so they are called in libc through bun:ffi
 * (Linux, macOS, FreeBSD); where that is not possible (Windows, a libc that
 * will not load) the limit is unknown and the caller goes without.
 */
import { readdirSync } from "node:fs";

export interface FdLimit {
  /** The limit in force (the soft limit); Infinity when unlimited. */
  soft: number;
  /** How far the soft limit may be raised without privileges. */
  hard: number;
}

interface Rlimit {
  get(resource: number, limits: BigUint64Array): number;
  set(resource: number, limits: BigUint64Array): number;
}

/** RLIMIT_NOFILE's number: 7 on Linux (every architecture), 8 on the BSDs and macOS. */
const RLIMIT_NOFILE: Partial<Record<NodeJS.Platform, number>> = { linux: 7, darwin: 8, freebsd: 8 };
const LIBC: Partial<Record<NodeJS.Platform, string>> = {
  linux: "libc.so.6",
  darwin: "/usr/lib/libSystem.B.dylib",
  freebsd: "libc.so.7",
};
/**
 * macOS refuses a soft limit above kern.maxfilesperproc (unlimited included); OPEN_MAX is the
 * value it documents for setrlimit, tried when the hard limit itself is refused.
 */
const DARWIN_OPEN_MAX = 10_240;

let loaded: Promise<Rlimit | null> | null = null;

/** libc's getrlimit and setrlimit, loaded once; null where they cannot be. */
function libc(): Promise<Rlimit | null> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Rlimit | null> {
  const path = LIBC[process.platform];
  if (!path || RLIMIT_NOFILE[process.platform] === undefined) return null;
  try {
    const { dlopen, FFIType, ptr } = await import("bun:ffi");
    const call = { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } as const;
    const { symbols } = dlopen(path, { getrlimit: call, setrlimit: call });
    return {
      get: (resource, limits) => symbols.getrlimit(resource, ptr(limits)),
      set: (resource, limits) => symbols.setrlimit(resource, ptr(limits)),
    };
  } catch {
    // No FFI here, or no such library: the limit stays unknown.
    return null;
  }
}

/** rlim_t (64 bits on every 64-bit system Bun runs on) as a number; RLIM_INFINITY (and anything past 2^53) is Infinity. */
const toNumber = (value: bigint | undefined): number =>
  value === undefined || value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);

function read(lib: Rlimit, resource: number): FdLimit | null {
  const limits = new BigUint64Array(2);
  if (lib.get(resource, limits) !== 0) return null;
  return { soft: toNumber(limits[0]), hard: toNumber(limits[1]) };
}

/** The open-file limit now; null when it cannot be known here. */
export async function readFdLimit(): Promise<FdLimit | null> {
  const lib = await libc();
  const resource = RLIMIT_NOFILE[process.platform];
  return lib && resource !== undefined ? read(lib, resource) : null;
}

/**
 * Raises the soft open-file limit to the hard one (as far as the system lets an unprivileged
 * process go) and returns the limit then in force; null when it cannot be known here.
 */
export async function raiseFdLimit(): Promise<FdLimit | null> {
  const lib = await libc();
  const resource = RLIMIT_NOFILE[process.platform];
  if (!lib || resource === undefined) return null;
  const limits = new BigUint64Array(2);
  if (lib.get(resource, limits) !== 0) return null;
  const [soft = 0n, hard = 0n] = limits;
  const targets = process.platform === "darwin" ? [hard, BigInt(DARWIN_OPEN_MAX)] : [hard];
  for (const target of targets) {
    if (target <= soft) break;
    limits[0] = target;
    if (lib.set(resource, limits) === 0) break;
  }
  return read(lib, resource);
}

/** Where the open descriptors of this process are listed, one entry each. */
const FD_DIR: Partial<Record<NodeJS.Platform, string>> = { linux: "/proc/self/fd", darwin: "/dev/fd", freebsd: "/dev/fd" };

/** How many files this process has open; null when it cannot be known here. */
export function openFds(): number | null {
  const dir = FD_DIR[process.platform];
  if (!dir) return null;
  try {
    // Less the descriptor the listing itself holds open.
    return readdirSync(dir).length - 1;
  } catch {
    return null;
  }
}
