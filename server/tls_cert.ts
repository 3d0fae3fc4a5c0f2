/**
 * A look at the server's own certificate at start: one that has expired or
 * is not valid yet makes every client fail, so the operator is told at once.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";

/** Why the certificate (PEM) is not valid at `now`, or null when it is (or cannot be read). */
export function certificateProblem(pem: string, now: number): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return null; // the TLS layer refuses an unreadable one with its own error
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (Number.isFinite(to) && now > to) return `the TLS certificate expired on ${cert.validTo}`;
  if (Number.isFinite(from) && now < from) {
    return `the TLS certificate is not valid until ${cert.validFrom}`;
  }
  return null;
}
