/** Small byte-copying helpers for the per-chunk paths (framing, telnet filtering). */

/**
 * Ranges shorter than this are copied by a loop: in JavaScriptCore a
 * `subarray` view costs about as much as copying a couple of hundred bytes.
 */
const NATIVE_COPY_MIN = 256;

/** Copies `from[start, end)` to `to[at…]`; returns the end of what was written. */
export function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): number {
  if (end - start >= NATIVE_COPY_MIN) {
    to.set(from.subarray(start, end), at);
    return at + end - start;
  }
  let n = at;
  for (let i = start; i < end; i++) to[n++] = from[i] ?? 0;
  return n;
}
