/**
 * A sealed batch of room lines (see Fanout) and the lines in it that some
 * members do not get: one shared chunk for everyone, or a member's own copy
 * without its exclusions, made only for the members that have some.
 */

/** A line of the batch that one member does not get. */
export interface Exclusion<Member> {
  member: Member;
  start: number;
  end: number;
}

/** A sealed batch: the same chunk for everyone, or a member's own copy without its exclusions. */
export class FanoutBatch<Member> {
  private byMember: Map<Member, Exclusion<Member>[]> | null = null;

  constructor(
    readonly bytes: Uint8Array,
    private readonly exclusions: Exclusion<Member>[],
    /** The same lines as JSON, when some members take JSON. */
    private readonly json: FanoutBatch<Member> | null = null,
  ) {}

  /** What a member that takes JSON gets; null when nothing. */
  forJson(member: Member): Uint8Array | null {
    return this.json?.for(member) ?? null;
  }

  /** What `member` gets; null when every line is excluded for it. */
  for(member: Member): Uint8Array | null {
    const exclusions = this.exclusions;
    if (exclusions.length === 0) return this.bytes;
    // The common case, a sender's own lines: no map.
    if (exclusions.length === 1) return exclusions[0]?.member === member ? without(this.bytes, exclusions) : this.bytes;
    this.byMember ??= group(exclusions);
    const own = this.byMember.get(member);
    return own ? without(this.bytes, own) : this.bytes;
  }
}

function group<Member>(exclusions: Exclusion<Member>[]): Map<Member, Exclusion<Member>[]> {
  const map = new Map<Member, Exclusion<Member>[]>();
  for (const e of exclusions) {
    const list = map.get(e.member);
    if (list) list.push(e);
    else map.set(e.member, [e]);
  }
  return map;
}

/** `bytes` without the given ranges (in order); null when nothing is left. */
function without<Member>(bytes: Uint8Array, ranges: Exclusion<Member>[]): Uint8Array | null {
  const left = ranges.reduce((size, r) => size - (r.end - r.start), bytes.length);
  if (left === 0) return null;
  const out = new Uint8Array(left);
  let at = 0;
  let from = 0;
  for (const r of ranges) {
    out.set(bytes.subarray(from, r.start), at);
    at += r.start - from;
    from = r.end;
  }
  out.set(bytes.subarray(from), at);
  return out;
}

/**
 * Leaves the range `bytes[start, end)` out for `except` and for each of
 * `hide` (the members that ignore its sender): a sender's lines one after
 * another are one range for each of them.
 */
export function exclude<Member>(
  exclusions: Exclusion<Member>[],
  start: number,
  end: number,
  except?: Member,
  hide?: readonly Member[],
): void {
  if (except !== undefined) excludeFor(exclusions, start, end, except);
  if (hide) for (const member of hide) if (member !== except) excludeFor(exclusions, start, end, member);
}

function excludeFor<Member>(exclusions: Exclusion<Member>[], start: number, end: number, member: Member): void {
  // The ranges left out of the line just before this one all end where it starts: one of them may grow.
  for (let i = exclusions.length - 1; i >= 0; i--) {
    const e = exclusions[i];
    if (!e || e.end !== start) break;
    if (e.member === member) {
      e.end = end;
      return;
    }
  }
  exclusions.push({ member, start, end });
}
