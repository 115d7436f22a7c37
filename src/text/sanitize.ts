/**
 * Makes text safe to print on a terminal or relay to one: C0 and C1 control
 * characters (ESC, BEL, a bare CR that could overwrite a prefix, ...) become
 * visible caret or <U+XXXX> notation, and so do the bidirectional overrides
 * that can make a line read differently from what it is. Tab is kept.
 */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
  if (code === 0x7f) return "^?";
  return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
}

export function sanitize(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, visible) : text;
}

const decoder = new TextDecoder("utf-8");

/** Decodes one complete line (invalid bytes become U+FFFD) and sanitises it. */
export function decodeLine(bytes: Uint8Array): string {
  return sanitize(decoder.decode(bytes));
}
