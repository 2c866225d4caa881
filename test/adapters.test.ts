// The network adapters (src/node/) against the simulated mail domain (src/sim/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../src/node/dns.js';
import { createPolicyFetcher } from '../src/node/policy-fetch.js';
import { createSmtpProber } from '../src/node/smtp-probe.js';
import type { ScenarioInput } from '../src/sim/scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';

const longTxt = `v=STSv1; id=long1; ${'x'.repeat(600)}`;

const scenario: ScenarioInput = {
  domains: [
    {
      name: 'good.test',
      mx: [
        { host: 'mx1.good.test', priority: 10, addresses: 2 },
        { host: 'mx2.good.test', priority: 20 },
      ],
      stsRecord: { id: 'good1' },
      tlsrpt: { rua: 'mailto:rpt@elsewhere.test' },
    },
    { name: 'split.test', stsRecord: { records: [['v=STSv1; ', 'id=split1;'], 'unrelated'] } },
    { name: 'cname.test', stsRecord: { id: 'delegated1', cnameTo: '_mta-sts.provider.test' } },
    { name: 'samezone.test', stsRecord: { id: 'same1', cnameTo: 'sts-target.samezone.test' } },
    { name: 'long.test', stsRecord: { text: longTxt } },
    { name: 'broken.test', stsRecord: { id: 'broken1' } },
    ...(
      [
        ['p404.test', { status: 404 }],
        ['p301.test', { location: 'https://elsewhere.test/policy.txt' }],
        ['html.test', { contentType: 'text/html; charset=utf-8' }],
        ['huge.test', { oversizeBytes: 10 * 1024 * 1024 }],
        ['dribble.test', { dribble: true }],
        ['slow.test', { responseDelayMs: 60_000 }],
        ['expired.test', { cert: 'expired' }],
        ['future.test', { cert: 'not-yet-valid' }],
        ['wrongname.test', { cert: 'wrong-name' }],
        ['selfsigned.test', { cert: 'self-signed' }],
        ['tls10.test', { tls10Only: true }],
      ] as const
    ).map(([name, faults]) => ({
      name,
      mx: [{ host: `mx.${name}` }],
      stsRecord: { id: 'x1' },
      policyHost: { faults },
    })),
    { name: 'nohost.test', stsRecord: { id: 'x1' }, policyHost: { absent: true } },
    {
      name: 'smtp.test',
      mx: [
        { host: 'nostarttls.smtp.test', faults: { noStarttls: true } },
        { host: 'refused.smtp.test', faults: { starttlsRefused: true } },
        { host: 'nobanner.smtp.test', faults: { noBanner: true } },
        { host: 'longbanner.smtp.test', faults: { bannerContinuationLines: 100_000 } },
        { host: 'endless.smtp.test', faults: { endlessBanner: true } },
        { host: 'tls10.smtp.test', faults: { tls10Only: true } },
        { host: 'down.smtp.test', faults: { down: true } },
        { host: 'expired.smtp.test', faults: { cert: 'expired' } },
        { host: 'wrongname.smtp.test', faults: { cert: 'wrong-name' } },
        { host: 'ok.smtp.test', faults: { certExpiresInDays: 5 } },
      ],
    },
  ],
  dnsFaults: [
    { name: '_mta-sts.broken.test', type: 'TXT', fault: 'servfail' },
    { name: 'mta-sts.broken.test', fault: 'timeout' },
  ],
  records: [
    { name: 'mta-sts.twoaddr.test', type: 'A', value: '127.1.250.1' },
    { name: 'mta-sts.twoaddr.test', type: 'A', value: '127.1.250.2' },
  ],
};

let sim: Simulation;
beforeAll(async () => {
  sim = await startSimulation(scenario);
});
afterAll(async () => {
  await sim?.stop();
});

function resolver(timeoutMs = 500) {
  return createDnsResolver({ servers: [`${sim.dns.address}:${sim.dns.port}`], timeoutMs, tries: 1 });
}

describe('DNS resolver against the simulator', () => {
  it('returns records, TXT strings unjoined, and MX', async () => {
    const dns = resolver();
    const txt = await dns.txt('_mta-sts.good.test');
    expect(txt).toMatchObject({ status: 'ok', records: [['v=STSv1; id=good1;']], cnameChain: [] });
    const mx = await dns.mx('good.test');
    expect(mx.status).toBe('ok');
    if (mx.status === 'ok') {
      expect(mx.records.sort((a, b) => a.priority - b.priority)).toEqual([
        { exchange: 'mx1.good.test', priority: 10 },
        { exchange: 'mx2.good.test', priority: 20 },
      ]);
    }
    const a = await dns.a('MX1.good.test.');
    expect(a.status === 'ok' && a.records.length).toBe(2);
  });

  it('keeps NXDOMAIN, NODATA, SERVFAIL and timeout apart', async () => {
    const dns = resolver(300);
    expect((await dns.txt('_mta-sts.nowhere.good.test')).status).toBe('nxdomain');
    expect(await dns.aaaa('mx1.good.test')).toMatchObject({ status: 'nodata' });
    // An empty non-terminal exists: NODATA, not NXDOMAIN.
    expect((await dns.txt('_tls.good.test')).status).toBe('nodata');
    expect(await dns.txt('_mta-sts.broken.test')).toMatchObject({ status: 'error', error: 'servfail' });
    expect(await dns.a('mta-sts.broken.test')).toMatchObject({ status: 'error', error: 'timeout' });
    expect(await dns.a('outside.invalid')).toMatchObject({ status: 'error', error: 'refused' });
  });

  it('returns split TXT strings as separate strings', async () => {
    const txt = await resolver().txt('_mta-sts.split.test');
    expect(txt.status).toBe('ok');
    if (txt.status === 'ok') expect(txt.records).toContainEqual(['v=STSv1; ', 'id=split1;']);
  });

  it('follows a CNAME within one answer and chases a cross-zone CNAME', async () => {
    const dns = resolver();
    expect(await dns.txt('_mta-sts.samezone.test')).toMatchObject({
      status: 'ok',
      records: [['v=STSv1; id=same1;']],
      cnameChain: ['sts-target.samezone.test'],
    });
    expect(await dns.txt('_mta-sts.cname.test')).toMatchObject({
      status: 'ok',
      records: [['v=STSv1; id=delegated1;']],
      cnameChain: ['_mta-sts.provider.test'],
    });
    expect(await dns.cname('_mta-sts.cname.test')).toMatchObject({
      status: 'ok',
      records: ['_mta-sts.provider.test'],
    });
  });

  it('falls back to TCP when the UDP answer is truncated', async () => {
    const txt = await resolver().txt('_mta-sts.long.test');
    expect(txt.status).toBe('ok');
    if (txt.status === 'ok') expect(txt.records[0]?.join('')).toBe(longTxt);
  });

  it('reports a network error for a server that is not there', async () => {
    const dns = createDnsResolver({ servers: ['127.0.0.1:1'], timeoutMs: 300, tries: 1 });
    const r = await dns.a('good.test');
    expect(r.status).toBe('error');
  });
});

function fetcher(timeoutMs = 2000) {
  return createPolicyFetcher({
    dns: resolver(),
    caPem: sim.caPem,
    useSystemCa: false,
    connectTo: sim.connectTo,
    timeoutMs,
  });
}

describe('policy fetch against the simulator', () => {
  it('fetches a policy with TLS facts', async () => {
    const r = await fetcher().fetchPolicy('good.test');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(Buffer.from(r.body).toString()).toContain('mx: mx1.good.test');
    expect(r.truncated).toBe(false);
    expect(r.tls.trusted).toBe(true);
    expect(r.tls.protocol).toBe('TLSv1.3');
    expect(r.tls.chain[0]?.dnsNames).toEqual(['mta-sts.good.test']);
    expect(r.tls.chain.length).toBe(2);
    expect(r.address).toMatch(/^127\.1\./);
  });

  it('returns a 404 as a status, not an error', async () => {
    const r = await fetcher().fetchPolicy('p404.test');
    expect(r).toMatchObject({ ok: true, status: 404 });
  });

  it('never follows a redirect and reports its Location', async () => {
    const r = await fetcher().fetchPolicy('p301.test');
    expect(r).toMatchObject({ ok: true, status: 301, location: 'https://elsewhere.test/policy.txt' });
  });

  it('reports the content type as sent', async () => {
    const r = await fetcher().fetchPolicy('html.test');
    expect(r).toMatchObject({ ok: true, status: 200, contentType: 'text/html; charset=utf-8' });
  });

  it('stops reading a 10 MB body at the cap', async () => {
    const r = await fetcher().fetchPolicy('huge.test');
    expect(r).toMatchObject({ ok: true, status: 200, truncated: true });
    if (r.ok) expect(r.body.length).toBe(65_536);
  });

  it('gives up on a body sent one byte per second', async () => {
    const r = await fetcher(1000).fetchPolicy('dribble.test');
    expect(r).toMatchObject({ ok: false, failure: { stage: 'timeout', code: 'timeout' } });
    if (!r.ok) expect(r.failure.tls?.trusted).toBe(true);
  });

  it('gives up on a server that never answers', async () => {
    const r = await fetcher(800).fetchPolicy('slow.test');
    expect(r).toMatchObject({ ok: false, failure: { stage: 'timeout', code: 'timeout' } });
  });

  it('reports certificate problems in the TLS facts instead of failing', async () => {
    const expired = await fetcher().fetchPolicy('expired.test');
    expect(expired).toMatchObject({ ok: true, tls: { trusted: true, verifyError: 'CERT_HAS_EXPIRED' } });
    const future = await fetcher().fetchPolicy('future.test');
    expect(future).toMatchObject({ ok: true, tls: { trusted: true, verifyError: 'CERT_NOT_YET_VALID' } });
    const wrong = await fetcher().fetchPolicy('wrongname.test');
    expect(wrong).toMatchObject({ ok: true, tls: { trusted: true } });
    if (wrong.ok) expect(wrong.tls.chain[0]?.dnsNames).toEqual(['wrong-name.invalid']);
    const self = await fetcher().fetchPolicy('selfsigned.test');
    expect(self).toMatchObject({
      ok: true,
      tls: { trusted: false, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    });
  });

  it('names a TLS 1.0-only server', async () => {
    const r = await fetcher().fetchPolicy('tls10.test');
    expect(r).toMatchObject({
      ok: false,
      failure: { stage: 'tls', code: 'tls-version', tls: { protocol: 'TLSv1' } },
    });
  });

  it('reports an unresolvable policy host as a DNS failure', async () => {
    expect(await fetcher().fetchPolicy('nohost.test')).toMatchObject({
      ok: false,
      failure: { stage: 'dns', code: 'nxdomain' },
    });
    expect(await fetcher().fetchPolicy('broken.test')).toMatchObject({
      ok: false,
      failure: { stage: 'dns', code: 'timeout' },
    });
  });

  it('moves on to the next address when one refuses the connection', async () => {
    const good = sim.connectTo.find((c) => c.port === 443)!;
    const refusing = sim.connectTo.find(
      (c) =>
        c.port === 25 && sim.hosts.some((h) => h.name === 'down.smtp.test' && h.addresses.includes(c.host)),
    )!;
    const r = await createPolicyFetcher({
      dns: resolver(),
      caPem: sim.caPem,
      useSystemCa: false,
      connectTo: [
        { host: '127.1.250.1', port: 443, toAddress: refusing.toAddress, toPort: refusing.toPort },
        { host: '127.1.250.2', port: 443, toAddress: good.toAddress, toPort: good.toPort },
      ],
      timeoutMs: 2000,
    }).fetchPolicy('twoaddr.test');
    expect(r).toMatchObject({ ok: true, address: '127.1.250.2' });
    // Another host's listener: SNI gets the fallback certificate, not a matching one.
    if (r.ok) expect(r.tls.chain[0]?.dnsNames).toEqual(['sni-mismatch.invalid']);
  });

  it('trusts only what it is told to trust', async () => {
    const r = await createPolicyFetcher({
      dns: resolver(),
      connectTo: sim.connectTo,
      timeoutMs: 2000,
    }).fetchPolicy('good.test');
    expect(r).toMatchObject({ ok: true, tls: { trusted: false } });
  });
});

function prober(timeoutMs = 2000) {
  return createSmtpProber({ caPem: sim.caPem, useSystemCa: false, connectTo: sim.connectTo, timeoutMs });
}

async function probeHost(name: string, timeoutMs?: number) {
  const host = sim.hosts.find((h) => h.name === name);
  if (!host?.addresses[0]) throw new Error(`no such simulated host ${name}`);
  return prober(timeoutMs).probe(name, host.addresses[0]);
}

describe('SMTP probe against the simulator', () => {
  it('completes banner, EHLO, STARTTLS and TLS with SNI = the MX name', async () => {
    const r = await probeHost('mx1.good.test');
    expect(r.failure).toBeUndefined();
    expect(r).toMatchObject({ host: 'mx1.good.test', port: 25, starttls: 'offered', tls: { trusted: true } });
    expect(r.banner).toMatch(/^mx1\.good\.test ESMTP/);
    expect(r.ehlo).toContain('STARTTLS');
    expect(r.tls?.chain[0]?.dnsNames).toEqual(['mx1.good.test']);
  });

  it('reports the certificate expiry date', async () => {
    const r = await probeHost('ok.smtp.test');
    const validTo = Date.parse(r.tls?.chain[0]?.validTo ?? '');
    expect(validTo - Date.now()).toBeLessThan(6 * 86_400_000);
    expect(validTo - Date.now()).toBeGreaterThan(4 * 86_400_000);
  });

  it('tells a missing STARTTLS from a refused one', async () => {
    const missing = await probeHost('nostarttls.smtp.test');
    expect(missing).toMatchObject({ starttls: 'not-offered' });
    expect(missing.failure).toBeUndefined();
    const refused = await probeHost('refused.smtp.test');
    expect(refused).toMatchObject({ starttls: 'refused', failure: { stage: 'starttls', code: 'refused' } });
  });

  it('gives up on a server that never sends a banner', async () => {
    const r = await probeHost('nobanner.smtp.test', 800);
    expect(r).toMatchObject({ failure: { stage: 'banner', code: 'timeout' } });
  });

  it('gives up on 100 000 continuation lines and on an endless banner', async () => {
    expect(await probeHost('longbanner.smtp.test')).toMatchObject({
      failure: { stage: 'banner', code: 'too-many-lines' },
    });
    expect(await probeHost('endless.smtp.test')).toMatchObject({
      failure: { stage: 'banner', code: 'too-many-lines' },
    });
  });

  it('names a TLS 1.0-only server', async () => {
    const r = await probeHost('tls10.smtp.test');
    expect(r).toMatchObject({
      starttls: 'offered',
      failure: { stage: 'tls', code: 'tls-version', tls: { protocol: 'TLSv1' } },
    });
  });

  it('reports a refused connection', async () => {
    expect(await probeHost('down.smtp.test')).toMatchObject({
      failure: { stage: 'connect', code: 'ECONNREFUSED' },
    });
  });

  it('reports certificate problems as facts', async () => {
    expect(await probeHost('expired.smtp.test')).toMatchObject({
      tls: { trusted: true, verifyError: 'CERT_HAS_EXPIRED' },
    });
    const wrong = await probeHost('wrongname.smtp.test');
    expect(wrong.tls?.chain[0]?.dnsNames).toEqual(['wrong-name.invalid']);
  });
});
