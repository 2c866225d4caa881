import { describe, expect, it } from 'vitest';
import type { PolicyFetchResult, TlsPeerInfo } from '../ports.js';
import { certificateNameMatches } from './certificate.js';
import { judgePolicyFetch } from './policy-fetch-verdict.js';

const now = new Date('2026-01-15T00:00:00Z');
function tls(over: Partial<TlsPeerInfo> = {}, names = ['mta-sts.example.com']): TlsPeerInfo {
  return {
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    trusted: true,
    chain: [
      {
        subject: 'CN=x',
        issuer: 'CN=ca',
        dnsNames: names,
        validFrom: '2026-01-01T00:00:00.000Z',
        validTo: '2026-04-01T00:00:00.000Z',
        fingerprint256: '',
        serialNumber: '1',
      },
    ],
    ...over,
  };
}
function ok(over: Partial<Extract<PolicyFetchResult, { ok: true }>> = {}): PolicyFetchResult {
  return {
    ok: true,
    address: '192.0.2.1',
    status: 200,
    headers: {},
    contentType: 'text/plain; charset=utf-8',
    body: new TextEncoder().encode('version: STSv1\n'),
    truncated: false,
    tls: tls(),
    ...over,
  };
}

describe('judgePolicyFetch (RFC 8461 §3.3)', () => {
  it('accepts 200 with a trusted, current certificate for mta-sts.<domain>', () => {
    expect(judgePolicyFetch(ok(), 'example.com', now)).toMatchObject({ ok: true, mediaTypeOk: true });
    expect(judgePolicyFetch(ok({ tls: tls({}, ['*.example.com']) }), 'example.com', now).ok).toBe(true);
  });
  it.each([
    ['redirect', ok({ status: 301, location: 'https://elsewhere/' })],
    ['http-status', ok({ status: 404 })],
    ['too-large', ok({ truncated: true })],
    ['certificate-not-trusted', ok({ tls: tls({ trusted: false, verifyError: 'SELF_SIGNED' }) })],
    ['certificate-host-mismatch', ok({ tls: tls({}, ['www.example.com']) })],
    [
      'certificate-expired',
      ok({ tls: { ...tls(), chain: [{ ...tls().chain[0]!, validTo: '2026-01-10T00:00:00Z' }] } }),
    ],
    [
      'certificate-not-yet-valid',
      ok({ tls: { ...tls(), chain: [{ ...tls().chain[0]!, validFrom: '2026-02-10T00:00:00Z' }] } }),
    ],
    ['network', { ok: false, failure: { stage: 'connect', code: 'ECONNREFUSED', detail: 'refused' } }],
  ] as [string, PolicyFetchResult][])('refuses: %s', (reason, result) => {
    expect(judgePolicyFetch(result, 'example.com', now)).toMatchObject({ ok: false, reason });
  });
  it('wildcards cover exactly one label', () => {
    expect(certificateNameMatches(['*.example.com'], 'mta-sts.example.com')).toBe(true);
    expect(certificateNameMatches(['*.com'], 'mta-sts.example.com')).toBe(false);
    expect(certificateNameMatches(['m*.example.com'], 'mta-sts.example.com')).toBe(false);
  });
});
