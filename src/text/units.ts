/** Parsers for human-friendly durations (`90`, `500ms`, `30s`, `5m`, `1h`, `7d`), sizes (`4096`, `64k`, `1m`) and rates (`5/1s`). */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null when the text is not a duration. A bare number is seconds. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return null;
  const ms = Number(match[1]) * (DURATION_MS[match[2] ?? "s"] ?? 1000);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

const RATE = /^(\d+)\/(\S+)$/;

/**
 * `LINES/DURATION` (`5/1s`, `100/1m`, `10/500ms`; a bare unit is one of it: `5/s`), or null when
 * the text is not one, or LINES or DURATION is 0.
 */
export function parseRate(text: string): { lines: number; periodMs: number } | null {
  const match = RATE.exec(text.trim().toLowerCase());
  if (!match) return null;
  const lines = Number(match[1]);
  const period = match[2] ?? "";
  const periodMs = parseDuration(/^\d/.test(period) ? period : `1${period}`);
  if (!Number.isSafeInteger(lines) || lines < 1 || periodMs === null || periodMs < 1) return null;
  return { lines, periodMs };
}

const SIZE = /^(\d+)(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/;
const SIZE_UNIT: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes, or null when the text is not a size. `k`, `m`, `g` are powers of 1024. */
export function parseSize(text: string): number | null {
  const match = SIZE.exec(text.trim().toLowerCase());
  if (!match) return null;
  const bytes = Number(match[1]) * (SIZE_UNIT[(match[2] ?? "b")[0] ?? "b"] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** `1m`, `64k`, or bytes: a size as `parseSize` reads it. */
export function formatSize(bytes: number): string {
  for (const unit of ["g", "m", "k"]) {
    const size = SIZE_UNIT[unit] ?? 1;
    if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `5/1s`: a rate as `parseRate` reads it. */
export function formatRate(rate: { lines: number; periodMs: number }): string {
  return `${rate.lines}/${formatDuration(rate.periodMs)}`;
}

/** A span of time for people, in its two largest units: `40s`, `12m 3s`, `2h 5m`, `3d 2h`. */
export function humanDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  let rest = Math.max(0, Math.floor(ms / 1000) * 1000);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.filter((p) => !p.startsWith("0")).join(" ") || "0s";
}
