// The sender's judgement of a policy fetch (RFC 8461 §3.3). The network adapter reports what
// happened without judging it (so the checker can list every fault); a sender must refuse a
// policy unless all of this holds: HTTPS response 200, no redirect, a certificate chained to
// a trusted root, within its validity dates, and valid for mta-sts.<domain>.

import type { PolicyFetchResult } from '../ports.js';
import { canonicalName, policyHost } from './domain.js';
import type { ResultType } from './findings.js';
import { matchMxPattern } from './mx-pattern.js';

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

/** RFC 6125 §6.4.3 as RFC 8461 §3.3 uses it: a wildcard is the whole left-most label only. */
export function certificateNameMatches(dnsNames: readonly string[], host: string): boolean {
  const h = canonicalName(host);
  return dnsNames.some((name) => {
    const n = canonicalName(name);
    if (n.includes('*') && !n.startsWith('*.')) return false;
    return matchMxPattern(n, h);
  });
}

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
  const leaf = result.tls.chain[0];
  if (!leaf) return failure('certificate-not-trusted', `${host} presented no certificate`);
  const t = now.getTime();
  if (Date.parse(leaf.validTo) < t) return failure('certificate-expired', `${host}: expired ${leaf.validTo}`);
  if (Date.parse(leaf.validFrom) > t)
    return failure('certificate-not-yet-valid', `${host}: not valid before ${leaf.validFrom}`);
  if (!result.tls.trusted) {
    return failure(
      'certificate-not-trusted',
      `${host}: certificate not trusted${result.tls.verifyError ? ` (${result.tls.verifyError})` : ''}`,
    );
  }
  if (!certificateNameMatches(leaf.dnsNames, host)) {
    return failure(
      'certificate-host-mismatch',
      `${host}: certificate names ${leaf.dnsNames.slice(0, 5).join(', ') || '(none)'}`,
    );
  }
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
