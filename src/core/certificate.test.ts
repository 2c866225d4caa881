import { describe, expect, it } from 'vitest';
import type { TlsPeerInfo } from '../ports.js';
import { assessCertificate, certificateNameMatches } from './certificate.js';

const tls = (
  over: Partial<TlsPeerInfo> = {},
  leaf: Partial<TlsPeerInfo['chain'][number]> = {},
): TlsPeerInfo => ({
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  trusted: true,
  chain: [
    {
      subject: 'CN=mx.example.com',
      issuer: 'CN=Test CA',
      dnsNames: ['mx.example.com'],
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2027-01-01T00:00:00Z',
      fingerprint256: 'AA',
      serialNumber: '01',
      ...leaf,
    },
  ],
  ...over,
});
const now = new Date('2026-11-30T12:00:00Z');

describe('certificateNameMatches', () => {
  it.each([
    [['mx.example.com'], 'MX.example.com.', true],
    [['*.example.com'], 'mx.example.com', true],
    [['*.example.com'], 'example.com', false],
    [['*.example.com'], 'a.mx.example.com', false],
    [['m*.example.com'], 'mx.example.com', false],
    [['mx.example.com.evil.test'], 'mx.example.com', false],
    [[], 'mx.example.com', false],
  ])('%j vs %s -> %s', (names, host, ok) => {
    expect(certificateNameMatches(names, host)).toBe(ok);
  });
});

describe('assessCertificate', () => {
  it('finds nothing wrong with a good certificate, and counts days left', () => {
    const a = assessCertificate(tls(), 'mx.example.com', now);
    expect(a.problems).toEqual([]);
    expect(a.daysLeft).toBe(31);
  });
  it('reports every problem at once', () => {
    const a = assessCertificate(
      tls(
        { trusted: false, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
        { validTo: '2026-11-01T00:00:00Z', dnsNames: ['other.example'] },
      ),
      'mx.example.com',
      now,
    );
    expect(a.problems).toEqual(['untrusted', 'expired', 'name-mismatch']);
  });
  it('judges trust apart from the dates: an expired certificate is untrusted only when its chain is', () => {
    const expired = { validTo: '2026-11-01T00:00:00Z' };
    expect(
      assessCertificate(
        tls({ trusted: true, verifyError: 'CERT_HAS_EXPIRED' }, expired),
        'mx.example.com',
        now,
      ).problems,
    ).toEqual(['expired']);
    expect(
      assessCertificate(
        tls({ trusted: false, verifyError: 'CERT_HAS_EXPIRED' }, expired),
        'mx.example.com',
        now,
      ).problems,
    ).toEqual(['untrusted', 'expired']);
  });
  it('not yet valid', () => {
    expect(
      assessCertificate(tls({}, { validFrom: '2026-12-01T00:00:00Z' }), 'mx.example.com', now).problems,
    ).toEqual(['not-yet-valid']);
  });
});
