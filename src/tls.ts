/** TLS helpers: the SHA-256 fingerprint users compare between server and client, and a check of the server's PEM files. */
import { ChatError } from "./errors.ts";

/** node:crypto takes several milliseconds to load: only a TLS server needs it. */
const crypto = () => import("node:crypto");

/** `AB:CD:…` of the first certificate in a PEM text, as the client prints it. */
export async function tlsFingerprint(pem: string): Promise<string> {
  const { X509Certificate } = await crypto();
  return new X509Certificate(pem).fingerprint256;
}

/**
 * Throws a clear error when the certificate or key cannot be used: Bun.listen
 * reports these as bare OpenSSL codes (`…:KEY_VALUES_MISMATCH`).
 */
export async function checkTlsPair(cert: string, key: string): Promise<void> {
  const { createPrivateKey, X509Certificate } = await crypto();
  let certificate: InstanceType<typeof X509Certificate>;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ChatError("cannot serve TLS: the certificate is not a PEM certificate");
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ChatError("cannot serve TLS: the key is not a PEM private key (or it has a passphrase)");
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ChatError("cannot serve TLS: the key does not match the certificate");
}
