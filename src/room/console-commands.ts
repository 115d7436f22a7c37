/**
 * The console's moderation: `/kick`, `/ban`, `/bans`, `/unban`, `/mute`,
 * `/unmute`. The console is the room's operator; a member typing one of
 * these is told it is the console's.
 */
import { utcTime } from "../events.ts";
import { humanDuration } from "../text/units.ts";
import { error, type Handler, notice, other, type RoomActions } from "./actions.ts";
import { type Ban, banTarget } from "./bans.ts";
import type { Member } from "./members.ts";
import { nameKey } from "./names.ts";
import { USAGE } from "./parse.ts";

/** False (and `m` told) when `m` is not the console. */
function onConsole(room: RoomActions, m: Member, command: string): boolean {
  if (m.conn) error(room, m, `${command} is for the server console`);
  return m.conn === null;
}

/** How `/bans` shows a ban. */
function described(ban: Ban, now: number): string {
  const what = ban.kind === "name" ? "name" : ban.of ? `address of ${ban.of}` : "address";
  const until = ban.until === null ? "until /unban" : `until ${utcTime(ban.until)} (${humanDuration(ban.until - now)} left)`;
  return `${ban.target} (${what}) ${until}${ban.reason ? `: ${ban.reason}` : ""}`;
}

const kick: Handler<"kick"> = (room, m, { name, reason }) => {
  if (!onConsole(room, m, "/kick")) return;
  const target = other(room, m, name);
  if (target) room.hubOf(target)?.kick(target, reason ?? "");
};

/** `/ban NAME`: the name, and the address its holder is connected from; `/ban CIDR`: that block. */
const ban: Handler<"ban"> = (room, m, { target, ms, reason }) => {
  if (!onConsole(room, m, "/ban")) return;
  const banned = banTarget(target);
  if (!banned) {
    error(room, m, `usage: ${USAGE.ban} (${target} is neither a name nor an address)`);
    return;
  }
  if (banned.kind === "name" && nameKey(target) === nameKey(m.name)) {
    error(room, m, "that is you");
    return;
  }
  const terms = { until: ms === undefined ? null : Date.now() + ms, reason: reason ?? "", by: m.name };
  if (banned.kind === "address") {
    room.ban({ ...banned, ...terms });
    return;
  }
  const holder = room.holder(target);
  const address = holder ? room.hubOf(holder)?.whois(holder)?.address : undefined;
  const from = address ? banTarget(address) : null;
  // The address first: the member's leave then finds both in force.
  if (holder && from?.kind === "address") room.ban({ ...from, ...terms, of: holder });
  room.ban({ ...banned, target: holder ?? target, ...terms });
};

const bans: Handler<"bans"> = (room, m) => {
  if (!onConsole(room, m, "/bans")) return;
  const now = Date.now();
  const list = room.hub.bans.list(now).sort((a, b) => a.target.localeCompare(b.target));
  if (list.length === 0) notice(room, m, "no bans");
  else notice(room, m, `${list.length} ${list.length === 1 ? "ban" : "bans"}:`);
  for (const b of list) notice(room, m, `  ${described(b, now)}`);
};

/** `/unban NAME` also lifts the bans on the addresses banned with that name. */
const unban: Handler<"unban"> = (room, m, { target }) => {
  if (!onConsole(room, m, "/unban")) return;
  const lifted = banTarget(target);
  const list = room.hub.bans.list();
  const ban = lifted && list.find((b) => b.key === lifted.key);
  if (!ban) {
    error(room, m, `${target} is not banned`);
    return;
  }
  room.hub.unban(ban.key);
  if (ban.kind === "name") for (const b of list) if (b.of && nameKey(b.of) === nameKey(ban.target)) room.hub.unban(b.key);
};

const mute: Handler<"mute"> = (room, m, { name, on }) => {
  if (!onConsole(room, m, on ? "/mute" : "/unmute")) return;
  const target = other(room, m, name);
  if (target) room.hubOf(target)?.mute(target, on);
};

export const consoleCommands = { kick, ban, bans, unban, mute };
