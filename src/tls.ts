/** TLS helpers: the SHA-256 fingerprint users compare between server and client. */
import { createHash } from "node:crypto";

/** `AB:CD:…` of the first certificate in a PEM text (the DER bytes hashed). */
export function tlsFingerprint(pem: string): string {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? "";
  const der = Buffer.from(body.replace(/\s+/g, ""), "base64");
  const hex = createHash("sha256").update(der).digest("hex").toUpperCase();
  return hex.match(/../g)?.join(":") ?? "";
}
