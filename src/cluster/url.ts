/** `--redis URL`: checked at start, and shown without its password. */
import { UsageError } from "../errors.ts";

export interface RedisAddress {
  /** The URL as given (password and all): what the client connects with. */
  url: string;
  /** `HOST:PORT`, never the password: for the listening line and errors. */
  label: string;
  tls: boolean;
}

const DEFAULT_REDIS_PORT = 6379;

export function parseRedisUrl(text: string): RedisAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid --redis: ${redact(text)} (expected redis://[[user]:password@]host[:port][/db] or rediss://…)`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new UsageError(`invalid --redis: ${url.protocol} is not redis: or rediss:`);
  }
  if (!url.hostname) throw new UsageError("invalid --redis: no host");
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new UsageError(`invalid --redis: database ${db} is not a number`);
  const port = url.port ? Number(url.port) : DEFAULT_REDIS_PORT;
  return { url: text, label: `${url.hostname}:${port}`, tls: url.protocol === "rediss:" };
}

/** A URL-ish text with anything between `//` and `@` hidden, for messages about a URL that did not parse. */
export function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, "//***@");
}
