/** Who may stay: nobody once the server is shutting down, only addresses --allow and --deny let in, at most --max-clients. */
import { plainAddress } from "../net/address.ts";
import { type Cidr, refusal } from "../net/cidr.ts";

export interface AdmissionRules {
  allow: Cidr[];
  deny: Cidr[];
  maxClients: number;
}

/** Why a new connection from `address` may not stay while `clients` are served, or null. */
export function admissionRefusal(rules: AdmissionRules, address: string, clients: number, closing: boolean): string | null {
  if (closing) return "server shutting down";
  const why = refusal(plainAddress(address), rules.allow, rules.deny);
  if (why) return why === "address denied" ? "not allowed" : why;
  if (clients >= rules.maxClients) return "server full";
  return null;
}
