// Which certificate answers which TLS SNI name: a pure decision over what was loaded.
import { certificateNameMatches } from '../core/certificate.js';

export interface CertificateCandidate {
  /** The name the files are called by (<host>.pem / <host>.key). */
  host: string;
  dnsNames: readonly string[];
  notBefore: Date;
  notAfter: Date;
}

function normalise(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * The certificate to present for an SNI name: only one whose subjectAltName covers the name
 * (a wildcard as the whole left-most label, as senders judge it) and that is within its dates;
 * among those the one filed under that exact name first, then the one that lasts longest.
 * None: the handshake fails with an alert rather than presenting a certificate a sender rejects.
 */
export function chooseCertificate<T extends CertificateCandidate>(
  servername: string,
  candidates: Iterable<T>,
  now: Date,
): T | undefined {
  const name = normalise(servername);
  if (name === '') return undefined;
  let best: T | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    if (!certificateNameMatches(c.dnsNames, name)) continue;
    const inDates = c.notBefore.getTime() <= now.getTime() && now.getTime() <= c.notAfter.getTime();
    // Out of its dates is still better than a TLS alert: the sender reports certificate-expired,
    // which tells the operator exactly what is wrong.
    const score = (inDates ? 2 : 0) + (normalise(c.host) === name ? 1 : 0);
    if (score > bestScore || (score === bestScore && best && c.notAfter > best.notAfter)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Names that are safe as a file name for <host>.pem: a DNS name, nothing that walks the tree. */
export function isSafeHostFileName(host: string): boolean {
  return /^(?!-)[a-z0-9*_-]+(?:\.[a-z0-9_-]+)*$/i.test(host) && host.length <= 253 && !host.includes('..');
}
