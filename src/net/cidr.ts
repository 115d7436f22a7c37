/** CIDR blocks (`10.0.0.0/8`, `::1/128`, a bare address) for --allow / --deny. */
export interface Cidr {
  text: string;
  bits: bigint;
  prefix: number;
  v6: boolean;
}

function parseV4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseV6(text: string): bigint | null {
  let body = text;
  let tail: bigint | null = null;
  let tailGroups = 0;
  const lastColon = body.lastIndexOf(":");
  if (body.slice(lastColon + 1).includes(".")) {
    tail = parseV4(body.slice(lastColon + 1));
    if (tail === null) return null;
    body = `${body.slice(0, lastColon + 1)}0:0`;
    tailGroups = 2;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return tail === null ? value : ((value >> BigInt(16 * tailGroups)) << 32n) | tail;
}

/** Parses an address to its bits, mapping IPv4-mapped IPv6 to IPv4. */
export function parseAddress(text: string): { bits: bigint; v6: boolean } | null {
  const v4 = parseV4(text);
  if (v4 !== null) return { bits: v4, v6: false };
  const v6 = parseV6(text.split("%")[0] ?? "");
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { bits: v6 & 0xffffffffn, v6: false };
  return { bits: v6, v6: true };
}

export function parseCidr(text: string): Cidr | null {
  const [addressText = "", prefixText] = text.split("/");
  const address = parseAddress(addressText);
  if (!address) return null;
  const width = address.v6 ? 128 : 32;
  const prefix = prefixText === undefined ? width : /^\d+$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > width) return null;
  const shift = BigInt(width - prefix);
  return { text, bits: (address.bits >> shift) << shift, prefix, v6: address.v6 };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed || parsed.v6 !== cidr.v6) return false;
  const shift = BigInt((cidr.v6 ? 128 : 32) - cidr.prefix);
  return (parsed.bits >> shift) << shift === cidr.bits;
}

/** Why an address is refused, or null when it may connect. */
export function refusal(address: string, allow: readonly Cidr[], deny: readonly Cidr[]): string | null {
  if (deny.some((cidr) => cidrContains(cidr, address))) return "address denied";
  if (allow.length > 0 && !allow.some((cidr) => cidrContains(cidr, address))) return "address not allowed";
  return null;
}
