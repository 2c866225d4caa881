// Judging a TLS peer's certificate the way a sending MTA must (RFC 8461 §3.3 for the policy
// host, §4.1-4.2 for MX hosts): chained to a trust anchor, within its validity, and valid for the
// expected name by subjectAltName dNSName, a wildcard only as the whole left-most label.
import type { TlsPeerInfo } from '../ports.js';
import { canonicalName } from './domain.js';

/** RFC 6125 §6.4.3 as RFC 8461 §3.3 narrows it: "*" only as the complete left-most label. */
export function certificateNameMatches(dnsNames: readonly string[], host: string): boolean {
  const h = canonicalName(host);
  return dnsNames.some((raw) => {
    const name = canonicalName(raw);
    if (name === h) return true;
    if (!name.startsWith('*.')) return false;
    const parent = name.slice(1);
    if (!h.endsWith(parent)) return false;
    const label = h.slice(0, h.length - parent.length);
    return label.length > 0 && !label.includes('.');
  });
}

export type CertificateProblem =
  | 'untrusted'
  | 'expired'
  | 'not-yet-valid'
  | 'name-mismatch'
  | 'no-certificate';

export interface CertificateAssessment {
  problems: CertificateProblem[];
  /** Whole days until the leaf expires (negative once expired). */
  daysLeft?: number;
  validTo?: string;
  dnsNames: string[];
  verifyError?: string;
}

const DAY_MS = 86_400_000;

export function assessCertificate(tls: TlsPeerInfo, host: string, now: Date): CertificateAssessment {
  const leaf = tls.chain[0];
  if (!leaf) return { problems: ['no-certificate'], dnsNames: [] };
  const problems: CertificateProblem[] = [];
  // `trusted` speaks of the chain alone (the adapter checks it apart from the dates).
  if (!tls.trusted) problems.push('untrusted');
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  if (Number.isFinite(to) && now.getTime() > to) problems.push('expired');
  else if (Number.isFinite(from) && now.getTime() < from) problems.push('not-yet-valid');
  else if (tls.verifyError === 'CERT_HAS_EXPIRED') problems.push('expired');
  else if (tls.verifyError === 'CERT_NOT_YET_VALID') problems.push('not-yet-valid');
  if (!certificateNameMatches(leaf.dnsNames, host)) problems.push('name-mismatch');
  const result: CertificateAssessment = { problems, dnsNames: leaf.dnsNames, validTo: leaf.validTo };
  if (Number.isFinite(to)) result.daysLeft = Math.floor((to - now.getTime()) / DAY_MS);
  if (tls.verifyError) result.verifyError = tls.verifyError;
  return result;
}

/** RFC 8461 §3.3 and RFC 8996: TLS 1.2 or later. */
export function isAcceptableTlsVersion(protocol: string): boolean {
  return protocol === 'TLSv1.2' || protocol === 'TLSv1.3';
}
