/**
 * Who may stay: nobody once the server is shutting down, only addresses --allow and --deny let in,
 * at most --max-clients, and at most --max-per-address from one address.
 */
import { plainAddress } from "../net/address.ts";
import { type Cidr, refusal } from "../net/cidr.ts";

export interface AdmissionRules {
  allow: Cidr[];
  deny: Cidr[];
  maxClients: number;
  /** Connections one address may hold at once; 0 = no limit. */
  maxPerAddress: number;
}

/**
 * Why a new connection from `address` may not stay while `clients` are served, `fromAddress` of
 * them from the same address, or null.
 */
export function admissionRefusal(
  rules: AdmissionRules,
  address: string,
  clients: number,
  closing: boolean,
  fromAddress = 0,
): string | null {
  if (closing) return "server shutting down";
  const why = refusal(plainAddress(address), rules.allow, rules.deny);
  if (why) return why === "address denied" ? "not allowed" : why;
  if (clients >= rules.maxClients) return "server full";
  if (rules.maxPerAddress > 0 && fromAddress >= rules.maxPerAddress) return "too many connections from your address";
  return null;
}
