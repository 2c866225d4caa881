// The network adapters (src/node/) against the simulated mail domain (src/sim/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../src/node/dns.js';
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
  ],
  dnsFaults: [
    { name: '_mta-sts.broken.test', type: 'TXT', fault: 'servfail' },
    { name: 'mta-sts.broken.test', fault: 'timeout' },
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
