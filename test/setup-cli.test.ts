// mta-sts init / records / policy set as a user runs them: the built CLI, in a temp directory,
// against the simulator's authoritative DNS on loopback.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { runCli } from './helpers/cli.js';

const NAMED_CHECKZONE = '/usr/bin/named-checkzone';

let sim: Simulation;
let work: string;
let resolver: string;

beforeAll(async () => {
  sim = await startSimulation({
    domains: [
      {
        name: 'shop.example',
        mx: [
          { host: 'mx2.shop.example', priority: 20 },
          { host: 'mx1.shop.example', priority: 10 },
        ],
        stsRecord: { id: '20200101000000Z' },
        tlsrpt: { rua: 'mailto:tlsrpt@reports.example' },
      },
      { name: 'nomail.example', apexAddresses: 1 },
    ],
  });
  resolver = `${sim.dns.address}:${sim.dns.port}`;
  work = await mkdtemp(join(tmpdir(), 'mta-sts-setup-'));
});

afterAll(async () => {
  await sim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function json(args: string[], cwd = work) {
  const r = await runCli([...args, '--json'], { cwd });
  return { ...r, body: r.stdout ? JSON.parse(r.stdout) : undefined };
}

// Each CLI run is a new Node process; on a loaded machine that takes seconds.
const slow = { timeout: 90_000 };

describe('mta-sts init', slow, () => {
  it('builds the policy from the MX records in DNS, in priority order', async () => {
    const r = await json([
      'init',
      'shop.example',
      '--resolver',
      resolver,
      '--pages-host',
      'octocat.github.io',
      '--rua',
      'mailto:tlsrpt@reports.example',
    ]);
    expect(r.code).toBe(0);
    expect(r.body.mx).toEqual({ source: 'dns', hosts: ['mx1.shop.example', 'mx2.shop.example'] });
    const d = r.body.domains[0];
    expect(d.policy.mx).toEqual(['mx1.shop.example', 'mx2.shop.example']);
    expect(d.policy.mode).toBe('testing');
    expect(d.policy.maxAge).toBe(604800);
    expect(d.id).toMatch(/^\d{14}Z$/);
    expect(d.findings.map((f: { code: string }) => f.code)).toEqual(
      expect.arrayContaining(['setup.mx-wildcard-possible', 'policy.mode-testing']),
    );
    const dir = join(work, 'mta-sts.shop.example');
    for (const f of [
      '.well-known/mta-sts.txt',
      'CNAME',
      '.nojekyll',
      '_config.yml',
      '.gitattributes',
      'robots.txt',
      'index.html',
      'README.md',
      '.mta-sts/state.json',
    ])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(await readFile(join(dir, 'CNAME'), 'utf8')).toBe('mta-sts.shop.example\n');
    // The generated policy passes lint with no error.
    const lint = await runCli([
      'lint',
      join(dir, '.well-known/mta-sts.txt'),
      '--mx',
      'mx1.shop.example,mx2.shop.example',
    ]);
    expect(lint.code).toBe(0);
  });

  it('takes --mx without any DNS lookup', async () => {
    const r = await json([
      'init',
      'offline.example',
      '--mx',
      'MX.Offline.Example.',
      '--mode',
      'enforce',
      '--resolver',
      '127.0.0.1:9',
      '--target',
      'static',
    ]);
    expect(r.code).toBe(0);
    expect(r.body.domains[0].policy.text).toBe(
      'version: STSv1\nmode: enforce\nmx: mx.offline.example\nmax_age: 604800\n',
    );
    expect(r.body.files.map((f: { path: string }) => f.path).sort()).toEqual([
      '.well-known/mta-sts.txt',
      'index.html',
    ]);
  });

  it('fails clearly with neither MX records nor --mx', async () => {
    const r = await json(['init', 'nomail.example', '--resolver', resolver]);
    expect(r.code).toBe(1);
    expect(r.body).toMatchObject({ ok: false, reason: 'no-mx' });
    expect(r.body.findings[0].code).toBe('setup.no-mx');
    const human = await runCli(['init', 'nomail.example', '--resolver', resolver], { cwd: work });
    expect(human.stderr).toContain('no MX records');
    expect(human.stderr).toContain('--mx');
    expect(existsSync(join(work, 'mta-sts.nomail.example'))).toBe(false);
  });

  it('refuses out-of-range values with the codes lint uses', async () => {
    const r = await json(['init', 'bad.example', '--mx', 'mx.bad.example', '--max-age', '31557601']);
    expect(r.code).toBe(2);
    expect(r.body.findings.map((f: { code: string }) => f.code)).toContain('policy.max-age');
    const mode = await runCli(['init', 'bad.example', '--mx', 'mx.bad.example', '--mode', 'strict'], {
      cwd: work,
    });
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('--mode must be enforce, testing or none');
  });
});

describe('mta-sts policy set', slow, () => {
  const dir = () => join(work, 'mta-sts.shop.example');

  it('changes the id exactly when the content changes, and is idempotent', async () => {
    const before = JSON.parse(await readFile(join(dir(), '.mta-sts/state.json'), 'utf8')).domains[0].id;
    const first = await json(['policy', 'set', '--dir', dir(), '--mode', 'enforce']);
    expect(first.code).toBe(0);
    const id1 = first.body.domains[0].id;
    expect(first.body.domains[0].idChanged).toBe(true);
    expect(id1 > before).toBe(true);
    expect(await readFile(join(dir(), '.well-known/mta-sts.txt'), 'utf8')).toContain('mode: enforce\n');

    const again = await json(['policy', 'set', '--dir', dir(), '--mode', 'enforce']);
    expect(again.body.domains[0]).toMatchObject({ id: id1, idChanged: false, changes: [] });
    expect(again.body.files.every((f: { action: string }) => f.action === 'unchanged')).toBe(true);

    // Reports are not part of the policy: no new id.
    const rua = await json(['policy', 'set', '--dir', dir(), '--rua', 'mailto:tls@reports.example']);
    expect(rua.body.domains[0]).toMatchObject({ id: id1, idChanged: false });
  });

  it('gives two content changes right after each other distinct, increasing ids', async () => {
    const id1 = JSON.parse(await readFile(join(dir(), '.mta-sts/state.json'), 'utf8')).domains[0].id;
    const a = await json(['policy', 'set', '--dir', dir(), '--add-mx', 'mx3.shop.example']);
    const b = await json(['policy', 'set', '--dir', dir(), '--remove-mx', 'mx3.shop.example']);
    expect(a.body.domains[0].id > id1).toBe(true);
    expect(b.body.domains[0].id > a.body.domains[0].id).toBe(true);
  });

  it('prints the publishing order: the policy file first, then the TXT record', async () => {
    const r = await runCli(['policy', 'set', '--dir', dir(), '--max-age', '1209600'], { cwd: work });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('RFC 8461 §8.1');
    expect(out.indexOf('wait until the policy is served')).toBeLessThan(out.indexOf('_mta-sts.shop.example'));
    expect(out).toMatch(/_mta-sts\.shop\.example\s+3600\s+TXT\s+v=STSv1; id=\d{14}Z/);
  });

  it('will not overwrite a generated file edited by hand, unless --force', async () => {
    await writeFile(join(dir(), 'index.html'), '<p>mine</p>\n');
    const r = await runCli(['policy', 'set', '--dir', dir(), '--mode', 'testing'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('index.html (edited by hand');
    expect(await readFile(join(dir(), '.well-known/mta-sts.txt'), 'utf8')).toContain('mode: enforce');
    const forced = await runCli(['policy', 'set', '--dir', dir(), '--mode', 'testing', '--force'], {
      cwd: work,
    });
    expect(forced.code).toBe(0);
    expect(await readFile(join(dir(), 'index.html'), 'utf8')).toContain('MTA-STS policy for shop.example');
  });

  it('rejects removing an mx the policy does not have, naming what it has', async () => {
    const r = await runCli(['policy', 'set', '--dir', dir(), '--remove-mx', 'mx9.shop.example'], {
      cwd: work,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such mx (it has mx1.shop.example, mx2.shop.example)');
  });
});

describe('mta-sts records', slow, () => {
  it('prints table, zone and json from the state', async () => {
    const table = await runCli(['records', 'shop.example'], { cwd: work });
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^#HOST\s+#TTL\s+#TYPE\s+#VALUE$/);
    expect(table.stdout).toMatch(/mta-sts\.shop\.example\s+3600\s+CNAME\s+octocat\.github\.io\./);
    const j = await json(['records', 'shop.example', '--ttl', '600']);
    expect(j.body.domains[0].records.map((r: { name: string; ttl: number }) => [r.name, r.ttl])).toEqual([
      ['mta-sts.shop.example', 600],
      ['_mta-sts.shop.example', 600],
      ['_smtp._tls.shop.example', 600],
    ]);
  });

  it('--verify reports the stale id and the CNAME that is not there, with the fix', async () => {
    const r = await json(['records', 'shop.example', '--verify', '--resolver', resolver]);
    expect(r.code).toBe(1);
    const checks = r.body.verify[0].checks;
    expect(checks.map((c: { purpose: string; status: string }) => [c.purpose, c.status])).toEqual([
      ['policy-host', 'different'],
      ['mta-sts', 'different'],
      ['tlsrpt', 'different'],
    ]);
    expect(checks[1].detail).toContain('published id 20200101000000Z');
    expect(checks[1].fix).toContain(`"v=STSv1; id=${r.body.domains[0].id}"`);
  });

  it('--verify says published once DNS has caught up, and missing where nothing is there', async () => {
    const state = JSON.parse(await readFile(join(work, 'mta-sts.shop.example/.mta-sts/state.json'), 'utf8'));
    const current = state.domains[0];
    const caughtUp = await startSimulation({
      domains: [
        {
          name: 'shop.example',
          mx: [{ host: 'mx1.shop.example' }, { host: 'mx2.shop.example' }],
          stsRecord: { id: current.id },
          policyHost: { absent: true, faults: { cert: 'valid', tls10Only: false, dribble: false } },
          tlsrpt: { rua: current.rua[0] },
        },
        { name: 'offline.example' },
      ],
      records: [{ name: 'mta-sts.shop.example', type: 'CNAME', value: 'octocat.github.io' }],
    });
    try {
      const at = `${caughtUp.dns.address}:${caughtUp.dns.port}`;
      const ok = await runCli(['records', 'shop.example', '--verify', '--resolver', at], { cwd: work });
      expect(ok.stdout).not.toContain('✗');
      expect(ok.code).toBe(0);
      const missing = await json([
        'records',
        '--dir',
        'mta-sts.offline.example',
        '--verify',
        '--resolver',
        at,
      ]);
      expect(missing.code).toBe(1);
      expect(missing.body.verify[0].checks.map((c: { status: string }) => c.status)).toEqual([
        'missing',
        'missing',
      ]);
    } finally {
      await caughtUp.stop();
    }
  });

  // In CI a missing bind9-utils is a failure, not a skip.
  const zoneTest = existsSync(NAMED_CHECKZONE) || process.env.CI ? it : it.skip;
  zoneTest('--format zone loads in named-checkzone (bind9-utils), long TXT split included', async () => {
    const long = Array.from(
      { length: 4 },
      (_, i) => `mailto:tls-reports-${i}-${'x'.repeat(60)}@reports.example.net`,
    );
    await runCli(['policy', 'set', '--dir', 'mta-sts.shop.example', ...long.flatMap((u) => ['--rua', u])], {
      cwd: work,
    });
    const zone = await runCli(['records', 'shop.example', '--format', 'zone'], { cwd: work });
    expect(zone.code).toBe(0);
    expect(zone.stdout).toMatch(/" "/); // the TLS-RPT record is longer than 255 bytes
    const file = join(work, 'shop.example.zone');
    await writeFile(
      file,
      `$TTL 3600\nshop.example. IN SOA ns1.shop.example. hostmaster.shop.example. 1 7200 3600 1209600 3600\nshop.example. IN NS ns1.shop.example.\nns1.shop.example. IN A 192.0.2.1\n${zone.stdout}`,
    );
    const { stdout } = await promisify(execFile)(NAMED_CHECKZONE, ['-i', 'none', 'shop.example', file]);
    expect(stdout).toContain('OK');
  });
});

describe('many domains from one config', slow, () => {
  const config = () => join(work, 'hosting', 'mta-sts.yaml');

  it('init --config writes one site per domain and records --config prints them all', async () => {
    await rm(join(work, 'hosting'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(work, 'hosting')));
    await writeFile(
      config(),
      `# customers\ndefaults:\n  pages_host: octocat.github.io\n  rua: mailto:tlsrpt@reports.example\ndomains:\n  a.example: {mx: [mx.a.example], mode: enforce}\n  b.example:\n    mx: [mx1.b.example, mx2.b.example]\n`,
    );
    const r = await json(['init', '--config', config()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.domains.map((d: { domain: string }) => d.domain)).toEqual(['a.example', 'b.example']);
    for (const d of ['a.example', 'b.example']) {
      expect(await readFile(join(work, 'hosting/sites', d, 'CNAME'), 'utf8')).toBe(`mta-sts.${d}\n`);
    }
    expect(existsSync(join(work, 'hosting/mta-sts.state.json'))).toBe(true);
    const rec = await runCli(['records', '--config', config()], { cwd: work });
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stdout).toContain('_mta-sts.a.example');
    expect(rec.stdout).toContain('_mta-sts.b.example');
  });

  it('after a hand edit, records --config warns of drift and init --config bumps only that id', async () => {
    const state = JSON.parse(await readFile(join(work, 'hosting/mta-sts.state.json'), 'utf8'));
    const ids = Object.fromEntries(
      state.domains.map((d: { domain: string; id: string }) => [d.domain, d.id]),
    );
    await writeFile(
      config(),
      (await readFile(config(), 'utf8')).replace('mx2.b.example]', 'mx2.b.example]\n    mode: enforce'),
    );
    const drift = await runCli(['records', '--config', config()], { cwd: work });
    expect(drift.stderr).toContain('setup.config-drift');
    const again = await json(['init', '--config', config()]);
    const byDomain = Object.fromEntries(again.body.domains.map((d: { domain: string }) => [d.domain, d]));
    expect(byDomain['a.example']).toMatchObject({ id: ids['a.example'], idChanged: false });
    expect(byDomain['b.example'].idChanged).toBe(true);
    expect(byDomain['b.example'].id > ids['b.example']).toBe(true);
  });

  it('policy set --config edits the file (keeping comments) and regenerates', async () => {
    const r = await json([
      'policy',
      'set',
      '--config',
      config(),
      '--domain',
      'a.example',
      '--add-mx',
      'mx2.a.example',
    ]);
    expect(r.code).toBe(0);
    expect(r.body.domains[0]).toMatchObject({ domain: 'a.example', idChanged: true });
    const text = await readFile(config(), 'utf8');
    expect(text).toContain('# customers');
    expect(text).toContain('mx2.a.example');
    expect(await readFile(join(work, 'hosting/sites/a.example/.well-known/mta-sts.txt'), 'utf8')).toContain(
      'mx: mx2.a.example\n',
    );
  });

  it('names the bad key of an invalid config', async () => {
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, 'domains:\n  c.example:\n    mx: [mx.c.example]\n    max-age: 5\n');
    const r = await runCli(['init', '--config', bad], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('domains.c.example: Unrecognized key: "max-age"');
  });

  it('a shared target writes one directory for every host', async () => {
    const shared = join(work, 'shared.yaml');
    await writeFile(
      shared,
      'target: nginx\noutput: shared-site\ndomains:\n  a.example: {mx: [mx.a.example]}\n  b.example: {mx: [mx.b.example]}\n',
    );
    const r = await json(['init', '--config', shared]);
    expect(r.code).toBe(0);
    const conf = await readFile(join(work, 'shared-site/nginx.conf'), 'utf8');
    expect(conf).toContain('server_name mta-sts.a.example;');
    expect(conf).toContain('server_name mta-sts.b.example;');
    expect(existsSync(join(work, 'shared-site/mta-sts.b.example/.well-known/mta-sts.txt'))).toBe(true);
  });
});
