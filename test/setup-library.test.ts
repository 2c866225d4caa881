// The set-up library as the demo and other programs call it: initSite against the simulator's
// DNS, setPolicy with a fixed clock (ids within one second), state round trips.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lint } from '../src/core/lint.js';
import { createDnsResolver } from '../src/node/dns.js';
import { parseSiteState } from '../src/setup/state.js';
import { initSite, recordsFor, setPolicy } from '../src/setup/workflow.js';
import { demoScenario } from '../src/sim/demo-scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';

let sim: Simulation;
let work: string;

beforeAll(async () => {
  sim = await startSimulation(demoScenario);
  work = await mkdtemp(join(tmpdir(), 'mta-sts-setup-lib-'));
});

afterAll(async () => {
  await sim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('initSite for the demo', () => {
  it('sets up healthy.example from the simulated MX records, with a policy that covers them', async () => {
    const resolver = createDnsResolver({
      servers: [`${sim.dns.address}:${sim.dns.port}`],
      timeoutMs: 1000,
      tries: 1,
    });
    const dir = join(work, 'healthy');
    const now = new Date('2026-11-30T12:00:00Z');
    const r = await initSite(
      {
        domain: 'healthy.example',
        dir,
        mode: 'enforce',
        rua: ['mailto:tlsrpt@reports.example'],
        target: 'static',
      },
      { resolver, now },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = r.domains[0]!;
    expect(d.id).toBe('20261130120000Z');
    expect(d.policy.mx).toEqual(['mx1.healthy.example', 'mx2.healthy.example']);
    expect(await readFile(join(dir, '.well-known/mta-sts.txt'), 'utf8')).toBe(d.policy.text);
    const checked = lint({ policy: d.policy.text, mx: ['mx1.healthy.example', 'mx2.healthy.example'] });
    expect(checked.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(d.findings.map((f) => f.code)).toEqual(['setup.mx-wildcard-possible']);
  });
});

describe('setPolicy with a fixed clock', () => {
  it('gives changes within the same second distinct, increasing ids, and none for a repeat', async () => {
    const dir = join(work, 'ids');
    const now = new Date('2026-11-30T12:00:00.250Z');
    const init = await initSite({ domain: 'ids.example', dir, mx: ['mx.ids.example'] }, { now });
    if (!init.ok) throw new Error('init failed');
    const a = await setPolicy({ dir }, { mode: 'enforce' }, { now });
    const b = await setPolicy({ dir }, { maxAge: 1209600 }, { now });
    const c = await setPolicy({ dir }, { maxAge: 1209600 }, { now });
    if (!a.ok || !b.ok || !c.ok) throw new Error('set failed');
    expect([init.domains[0]!.id, a.domains[0]!.id, b.domains[0]!.id]).toEqual([
      '20261130120000Z',
      '20261130120001Z',
      '20261130120002Z',
    ]);
    expect(c.domains[0]).toMatchObject({ id: '20261130120002Z', idChanged: false });
    const state = parseSiteState(await readFile(join(dir, '.mta-sts/state.json'), 'utf8'));
    expect(state.domains[0]).toMatchObject({ id: '20261130120002Z', mode: 'enforce', maxAge: 1209600 });
    const records = await recordsFor({ dir }, { now });
    expect(records.plans[0]!.records.find((x) => x.purpose === 'mta-sts')!.value).toBe(
      'v=STSv1; id=20261130120002Z',
    );
  });

  it('withdraws a policy with mode none and no mx', async () => {
    const dir = join(work, 'ids');
    const r = await setPolicy({ dir }, { mode: 'none', removeMx: ['mx.ids.example'], maxAge: 86400 });
    expect(r.ok).toBe(true);
    expect(await readFile(join(dir, '.well-known/mta-sts.txt'), 'utf8')).toBe(
      'version: STSv1\nmode: none\nmax_age: 86400\n',
    );
  });
});
