/**
 * Who is in a cluster room, as this server knows it: its own members and the
 * roster of the other servers' (names, where each is, what each published
 * of itself), for `/who`, `/whois`, `/msg` and names taken.
 */
import type { Member, Members } from "../room/members.ts";
import { infoHere, type MemberInfo } from "../room/moderation.ts";
import type { Published, Roster } from "./roster.ts";

/** What a member of this server publishes of itself (see Published). */
export function published(m: Member): Published {
  return { since: m.since, peer: m.conn ? m.peer : "", address: m.address, away: m.away };
}

export class Directory {
  private sorted: { local: number; version: number; names: string[] } | null = null;

  constructor(
    private readonly members: Members,
    private readonly roster: Roster,
    /** This server's name in the room. */
    private readonly node: () => string,
  ) {}

  /** Every name in the room, sorted; made again only after a change here or in the roster. */
  names(): readonly string[] {
    const cached = this.sorted;
    if (cached && cached.local === this.members.version && cached.version === this.roster.version) return cached.names;
    const names = [...this.members.names(), ...this.roster.names()].sort((a, b) => a.localeCompare(b));
    this.sorted = { local: this.members.version, version: this.roster.version, names };
    return names;
  }

  holder(name: string): string | undefined {
    return this.members.find(name)?.name ?? this.roster.get(name)?.name;
  }

  /** A member here as it knows itself; one elsewhere as its server published it (no idle time). */
  whois(name: string): MemberInfo | undefined {
    const here = this.members.find(name);
    if (here) return { ...infoHere(here), node: this.node(), local: true };
    const there = this.roster.get(name);
    if (!there) return undefined;
    const { since, away, node, peer, address } = there;
    return { name: there.name, since, idleMs: null, away, node, local: false, peer: peer || undefined, address: address || undefined };
  }
}
