// The sender's judgement of a policy fetch (RFC 8461 §3.3). The network adapter reports what
// happened without judging it (so the checker can list every fault); a sender must refuse a
// policy unless all of this holds: HTTPS response 200, no redirect, a certificate chained to
// a trusted root, within its validity dates, and valid for mta-sts.<domain>.

import type { PolicyFetchResult } from '../ports.js';
import { assessCertificate, type CertificateProblem, isAcceptableTlsVersion } from './certificate.js';
import { policyHost } from './domain.js';
import type { ResultType } from './findings.js';

export type PolicyFetchFailureReason =
  | 'network'
  | 'tls-version'
  | 'redirect'
  | 'http-status'
  | 'too-large'
  | 'certificate-not-trusted'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'certificate-host-mismatch';

export type PolicyFetchVerdict =
  | {
      ok: true;
      body: Uint8Array;
      /** RFC 8461 §3.2 says text/plain; senders accept other types (reported, not refused). */
      mediaTypeOk: boolean;
    }
  | {
      ok: false;
      reason: PolicyFetchFailureReason;
      /** The RFC 8460 result type a TLS report would carry for this failure. */
      resultType: ResultType;
      detail: string;
    };

const CERT_ORDER: CertificateProblem[] = [
  'no-certificate',
  'expired',
  'not-yet-valid',
  'untrusted',
  'name-mismatch',
];
const CERT_REASON: Record<CertificateProblem, PolicyFetchFailureReason> = {
  'no-certificate': 'certificate-not-trusted',
  untrusted: 'certificate-not-trusted',
  expired: 'certificate-expired',
  'not-yet-valid': 'certificate-not-yet-valid',
  'name-mismatch': 'certificate-host-mismatch',
};

function failure(
  reason: PolicyFetchFailureReason,
  detail: string,
): Extract<PolicyFetchVerdict, { ok: false }> {
  const webpki = reason.startsWith('certificate-') || reason === 'tls-version';
  return { ok: false, reason, resultType: webpki ? 'sts-webpki-invalid' : 'sts-policy-fetch-error', detail };
}

export function judgePolicyFetch(result: PolicyFetchResult, domain: string, now: Date): PolicyFetchVerdict {
  const host = policyHost(domain);
  if (!result.ok) {
    const f = result.failure;
    if (f.code === 'tls-version') return failure('tls-version', f.detail);
    if (f.code === 'too-large') return failure('too-large', f.detail);
    return failure('network', `${f.stage}: ${f.detail}`);
  }
  // RFC 8461 §3.3: the certificate first, so a bad host cannot even redirect us.
  const cert = assessCertificate(result.tls, host, now);
  const problem = CERT_ORDER.find((p) => cert.problems.includes(p));
  if (problem) {
    const why =
      problem === 'name-mismatch'
        ? `certificate names ${cert.dnsNames.slice(0, 5).join(', ') || '(none)'}`
        : problem === 'untrusted'
          ? `certificate not trusted${cert.verifyError ? ` (${cert.verifyError})` : ''}`
          : problem === 'expired'
            ? `certificate expired ${cert.validTo ?? ''}`.trim()
            : problem === 'not-yet-valid'
              ? 'certificate not yet valid'
              : 'no certificate';
    return failure(CERT_REASON[problem], `${host}: ${why}`);
  }
  if (!isAcceptableTlsVersion(result.tls.protocol))
    return failure('tls-version', `${host}: ${result.tls.protocol} (TLS 1.2 or later required)`);
  // RFC 8461 §3.3: "senders MUST NOT follow redirects"; only 200 carries a policy.
  if (result.status >= 300 && result.status < 400)
    return failure(
      'redirect',
      `${host} answered ${result.status}${result.location ? ` to ${result.location}` : ''}`,
    );
  if (result.status !== 200) return failure('http-status', `${host} answered HTTP ${result.status}`);
  if (result.truncated) return failure('too-large', `${host}: policy larger than the 64 KiB limit`);
  const media = (result.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return { ok: true, body: result.body, mediaTypeOk: media === 'text/plain' };
}
