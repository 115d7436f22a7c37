/** Host/port parsing for the command line and address formatting for output. */
import { DEFAULT_HOST, DEFAULT_PORT } from "../defaults.ts";

export interface Target {
  host: string;
  port: number;
}

/** A port number 0–65535, or null. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/**
 * Reads `chat connect` positionals: `[]`, `[HOST]`, `[HOST, PORT]`, `[HOST:PORT]`,
 * `[[v6]:PORT]`, `[PORT]` alone, or a bare IPv6 address. Returns an error text
 * when the arguments cannot be a target.
 */
export function parseTarget(args: readonly string[], defaultHost = DEFAULT_HOST): Target | string {
  if (args.length > 2) return `too many arguments: ${args.join(" ")}`;
  const [first, second] = args;
  if (first === undefined) return { host: defaultHost, port: DEFAULT_PORT };
  if (second !== undefined) {
    const port = parsePort(second);
    if (port === null) return `invalid port: ${second} (expected 0-65535)`;
    return { host: unbracket(first), port };
  }
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(first);
  if (bracketed) return withPort(bracketed[1] ?? "", bracketed[2]);
  const colons = first.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = first.split(":");
    return withPort(host || defaultHost, port);
  }
  if (colons === 0 && /^\d+$/.test(first)) return withPort(defaultHost, first);
  return { host: first, port: DEFAULT_PORT };
}

function withPort(host: string, portText: string | undefined): Target | string {
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  const port = parsePort(portText);
  return port === null ? `invalid port: ${portText} (expected 0-65535)` : { host, port };
}

/** `::1` for `[::1]`. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** `127.0.0.1` for an IPv4-mapped IPv6 address, otherwise unchanged. */
export function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** `HOST:PORT`, with IPv6 in brackets (`[::1]:5000`). */
export function formatHostPort(host: string, port: number): string {
  const plain = plainAddress(host);
  return plain.includes(":") ? `[${plain}]:${port}` : `${plain}:${port}`;
}
