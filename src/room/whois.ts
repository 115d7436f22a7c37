/** What `/whois NAME` answers: one notice, the member's own words (its away text) last. */
import { type ChatEvent, utcTime, type WhoisFields } from "../events.ts";
import { humanDuration } from "../text/units.ts";
import type { MemberInfo } from "./moderation.ts";

/** The answer to `/whois`; the address only for the console (`console`). */
export function whoisText(info: MemberInfo, console: boolean, now = Date.now()): ChatEvent {
  const parts: string[] = [];
  const fields: WhoisFields = { name: info.name };
  if (info.since !== null) {
    parts.push(`here since ${utcTime(info.since)} (${humanDuration(now - info.since)})`);
    fields.since = new Date(info.since).toISOString();
  }
  if (info.idleMs !== null) {
    parts.push(`idle ${humanDuration(info.idleMs)}`);
    fields.idle = Math.floor(info.idleMs / 1000);
  }
  if (info.node !== undefined) {
    parts.push(info.local ? `on this server (${info.node})` : `on ${info.node}`);
    fields.node = info.node;
  }
  if (console && info.peer) {
    parts.push(`from ${info.peer}`);
    fields.peer = info.peer;
  }
  if (info.away !== null) {
    parts.push(info.away ? `away: ${info.away}` : "away");
    fields.away = info.away;
  }
  return { type: "notice", kind: "whois", whois: fields, text: `${info.name}: ${parts.join(", ")}` };
}
