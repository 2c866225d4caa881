// Unit tests for the pure decisions of `mta-sts serve`.
import { describe, expect, it } from 'vitest';
import { checkCredentials, isAuthorized, isLoopbackAddress, signSession } from './dashboard/auth.js';
import { buildOverview, dayRange, enforceReadiness } from './dashboard/overview-model.js';
import { escapeHtml, html, raw } from './html.js';
import { requestHost } from './policy-host.js';
import { takeToken } from './rate-limit.js';
import { daysUntil, renewalDue } from './renewal.js';
import { chooseCertificate, isSafeHostFileName } from './sni.js';

const DAY = 86_400_000;
const now = new Date('2025-06-30T12:00:00Z');
const cert = (host: string, dnsNames: string[], fromDays: number, toDays: number) => ({
  host,
  dnsNames,
  notBefore: new Date(now.getTime() + fromDays * DAY),
  notAfter: new Date(now.getTime() + toDays * DAY),
});

describe('chooseCertificate (SNI)', () => {
  const certs = [
    cert('mta-sts.example.com', ['mta-sts.example.com'], -10, 80),
    cert('wild.example.org', ['*.example.org'], -10, 50),
    cert('mta-sts.example.org', ['mta-sts.example.org'], -10, 20),
    cert('old.example.net', ['mta-sts.example.net'], -100, -1),
  ];
  it.each([
    ['mta-sts.example.com', 'mta-sts.example.com'],
    ['MTA-STS.example.com.', 'mta-sts.example.com'],
    ['mta-sts.example.org', 'mta-sts.example.org'],
    ['reports.example.org', 'wild.example.org'],
    ['a.b.example.org', undefined],
    ['example.org', undefined],
    ['mta-sts.unknown.test', undefined],
    ['', undefined],
    ['mta-sts.example.net', 'old.example.net'],
  ])('%s -> %s', (name, expected) => {
    expect(chooseCertificate(name, certs, now)?.host).toBe(expected);
  });
  it('prefers a certificate within its dates over an expired one filed under the name', () => {
    const c = [
      cert('mta-sts.x.test', ['mta-sts.x.test'], -100, -1),
      cert('other', ['mta-sts.x.test'], -1, 60),
    ];
    expect(chooseCertificate('mta-sts.x.test', c, now)?.host).toBe('other');
  });
  it('file names are host names, never paths', () => {
    expect(isSafeHostFileName('mta-sts.example.com')).toBe(true);
    expect(isSafeHostFileName('../etc/passwd')).toBe(false);
    expect(isSafeHostFileName('a/b')).toBe(false);
    expect(isSafeHostFileName('.hidden')).toBe(false);
  });
});

describe('renewalDue', () => {
  it('a 90-day certificate renews 30 days before expiry', () => {
    const nb = new Date(now.getTime() - 61 * DAY);
    expect(renewalDue(new Date(now.getTime() - 50 * DAY), new Date(now.getTime() + 40 * DAY), now).due).toBe(
      false,
    );
    expect(renewalDue(nb, new Date(now.getTime() + 29 * DAY), now)).toMatchObject({
      due: true,
      reason: 'expires in 29 days',
    });
    expect(renewalDue(nb, new Date(now.getTime() - DAY), now)).toMatchObject({
      due: true,
      reason: 'expired',
    });
  });
  it('a short-lived certificate renews with a third of its life left', () => {
    const nb = new Date(now.getTime() - 4 * DAY);
    expect(renewalDue(nb, new Date(now.getTime() + 2 * DAY), now).due).toBe(true);
    expect(renewalDue(nb, new Date(now.getTime() + 5 * DAY), now).due).toBe(false);
  });
  it('daysUntil', () => {
    expect(daysUntil(new Date(now.getTime() + 10.5 * DAY), now)).toBe(10);
    expect(daysUntil(new Date(now.getTime() - 0.5 * DAY), now)).toBe(-1);
  });
});

describe('requestHost', () => {
  it.each([
    ['mta-sts.Example.com', undefined, 'mta-sts.example.com'],
    ['mta-sts.example.com:443', undefined, 'mta-sts.example.com'],
    ['mta-sts.example.com.', undefined, 'mta-sts.example.com'],
    ['[::1]:8443', undefined, '[::1]'],
    [null, 'mta-sts.example.org', 'mta-sts.example.org'],
    ['', undefined, undefined],
  ])('%s (sni %s) -> %s', (header, sni, expected) => {
    expect(requestHost(header, sni)).toBe(expected);
  });
});

describe('rate limit (token bucket)', () => {
  it('allows a burst, then one per interval', () => {
    const limit = { perMinute: 60, burst: 2 };
    let b = takeToken(undefined, limit, 0);
    expect(b.allowed).toBe(true);
    b = takeToken(b.bucket, limit, 0);
    expect(b.allowed).toBe(true);
    b = takeToken(b.bucket, limit, 0);
    expect(b).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    b = takeToken(b.bucket, limit, 1000);
    expect(b.allowed).toBe(true);
  });
});

describe('enforce readiness', () => {
  const row = (day: string, organization: string, failed = 0) => ({
    day,
    domain: 'd.test',
    organization,
    successful: 10,
    failed,
  });
  const base = { today: '2025-06-30', days: 14, firstDay: '2025-06-01' };
  it('enforce and none are not questions', () => {
    expect(enforceReadiness({ ...base, mode: 'enforce', rows: [] }).status).toBe('enforcing');
    expect(enforceReadiness({ ...base, mode: 'none', rows: [] }).status).toBe('not-applicable');
  });
  it('no reports in the window: no data', () => {
    expect(enforceReadiness({ ...base, mode: 'testing', rows: [row('2025-06-01', 'A')] }).status).toBe(
      'no-data',
    );
  });
  it('a failure from any reporter in the window: not ready, naming the reporter', () => {
    const r = enforceReadiness({
      ...base,
      mode: 'testing',
      rows: [row('2025-06-29', 'A'), row('2025-06-20', 'B', 3)],
    });
    expect(r).toMatchObject({ status: 'not-ready', failingReporters: ['B'] });
  });
  it('a failure before the window does not count', () => {
    const r = enforceReadiness({
      ...base,
      mode: 'testing',
      rows: [row('2025-06-10', 'B', 3), row('2025-06-29', 'A'), row('2025-06-28', 'B')],
    });
    expect(r).toMatchObject({ status: 'ready', reporters: ['A', 'B'] });
  });
  it('too short an observation is not enough', () => {
    const r = enforceReadiness({
      ...base,
      firstDay: '2025-06-25',
      mode: 'testing',
      rows: [row('2025-06-29', 'A')],
    });
    expect(r.status).toBe('not-ready');
    expect(r.reason).toMatch(/5 of the 14 days/);
  });
  it('buildOverview sums per domain and lists domains only seen in reports', () => {
    const rows = [row('2025-06-29', 'A', 1), { ...row('2025-06-29', 'A'), domain: 'other.test' }];
    const o = buildOverview({
      rows,
      readinessRows: rows,
      since: '2025-06-28',
      until: '2025-06-30',
      configured: [{ domain: 'd.test', mode: 'testing' }],
      reportedModes: new Map([['other.test', 'enforce']]),
      firstDays: new Map(),
      readinessDays: 14,
    });
    expect(o.map((d) => [d.domain, d.hosted, d.mode, d.successful, d.failed])).toEqual([
      ['d.test', true, 'testing', 10, 1],
      ['other.test', false, 'enforce', 10, 0],
    ]);
    expect(o[0]!.series.map((s) => s.day)).toEqual(dayRange('2025-06-28', '2025-06-30'));
  });
});

describe('html escaping and auth', () => {
  it('escapes every interpolation unless it is our markup', () => {
    const org = '<script>alert("x")</script>';
    expect(html`<td>${org}</td>`.html).toBe('<td>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;</td>');
    expect(html`<p title="${"a' onmouseover='x"}">${raw('<b>ok</b>')}</p>`.html).toBe(
      '<p title="a&#39; onmouseover=&#39;x"><b>ok</b></p>',
    );
    expect(escapeHtml('`&')).toBe('&#96;&#38;');
  });
  it('bearer, basic and session cookie; loopback detection', () => {
    const auth = { token: 'token-token-token-1', basic: { user: 'u', password: 'p:w' } };
    const req = (headers: Record<string, string>) => new Request('http://x/', { headers });
    expect(isAuthorized(req({ authorization: 'Bearer token-token-token-1' }), auth, 0)).toBe(true);
    expect(isAuthorized(req({ authorization: 'Bearer token-token-token-2' }), auth, 0)).toBe(false);
    expect(
      isAuthorized(req({ authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}` }), auth, 0),
    ).toBe(true);
    expect(
      isAuthorized(req({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` }), auth, 0),
    ).toBe(false);
    const cookie = `mta_sts_session=${signSession(auth, 1000)}`;
    expect(isAuthorized(req({ cookie }), auth, 999)).toBe(true);
    expect(isAuthorized(req({ cookie }), auth, 1001)).toBe(false);
    expect(isAuthorized(req({}), undefined, 0)).toBe(true);
    expect(checkCredentials(auth, { user: 'u', password: 'p:w' })).toBe(true);
    expect(checkCredentials(auth, { token: '' })).toBe(false);
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('[::1]')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackAddress('192.0.2.1')).toBe(false);
  });
});
