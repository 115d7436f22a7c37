/**
 * Is a descriptor a terminal? node:tty answers too, but loading it costs
 * about 5 ms of start-up (it brings in the runtime's stream machinery);
 * the runtime's own binding answers the same at no cost. Without that
 * binding, a character device other than /dev/null counts as a terminal.
 */
import { fstatSync } from "node:fs";
import { isDevNull } from "../dev-null.ts";

interface TtyBinding {
  isTTY(fd: number): boolean;
}

/** Looked up once; null when the runtime has none. */
let binding: TtyBinding | null | undefined;

function ttyBinding(): TtyBinding | null {
  try {
    const found = (process as unknown as { binding(name: string): Partial<TtyBinding> }).binding("tty_wrap");
    return typeof found.isTTY === "function" ? (found as TtyBinding) : null;
  } catch {
    return null;
  }
}

export function isatty(fd: number): boolean {
  if (binding === undefined) binding = ttyBinding();
  if (binding) return binding.isTTY(fd);
  try {
    return fstatSync(fd).isCharacterDevice() && !isDevNull(fd);
  } catch {
    return false;
  }
}
