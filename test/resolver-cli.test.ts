// The built CLI: `mta-sts resolver query` output and exit codes, and the daemon in the
// foreground: JSON logs, unknown keys reported, systemd readiness, SIGTERM draining.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatConnectTo } from '../src/node/connect-to.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { BIN, runCli } from './helpers/cli.js';
import { socketmapExchange } from './helpers/postfix.js';

let sim: Simulation;
let dir: string;
let netFlags: string[];

beforeAll(async () => {
  sim = await startSimulation({
    domains: [
      {
        name: 'good.test',
        mx: [{ host: 'mail.good.test' }, { host: 'mx2.good.test' }],
        stsRecord: { id: 'g1' },
      },
      {
        name: 'badcert.test',
        mx: [{ host: 'mail.badcert.test' }],
        stsRecord: { id: 'b1' },
        policyHost: { faults: { cert: 'expired' } },
      },
      {
        name: 'slow.test',
        mx: [{ host: 'mail.slow.test' }],
        stsRecord: { id: 's1' },
        policyHost: { faults: { responseDelayMs: 400 } },
      },
      { name: 'plain.test', mx: [{ host: 'mail.plain.test' }] },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'resolver-cli-'));
  netFlags = sim.checkFlags;
}, 30_000);

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mta-sts resolver query', () => {
  it('prints the record, the policy and the exact reply', async () => {
    const r = await runCli(['resolver', 'query', 'good.test', ...netFlags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'domain: good.test',
        'record: v=STSv1; id=g1',
        'policy: mode enforce, max_age 604800',
        '        mx mail.good.test',
        '        mx mx2.good.test',
        'reply:  OK secure match=mail.good.test:mx2.good.test servername=hostname',
        '',
      ].join('\n'),
    );
  });

  it('--json has a stable shape; an unusable policy exits 1', async () => {
    const r = await runCli(['resolver', 'query', 'badcert.test', '--json', ...netFlags]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      domain: 'badcert.test',
      record: { status: 'found', id: 'b1' },
      fetchFailure: { reason: 'certificate-expired' },
      reply: 'NOTFOUND ',
    });
  });

  it('a domain without MTA-STS is fine (exit 0, NOTFOUND)', async () => {
    const r = await runCli(['resolver', 'query', 'plain.test', '--json', ...netFlags]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ record: { status: 'absent' }, reply: 'NOTFOUND ' });
  });

  it('a bad configuration file is a usage error (exit 2)', async () => {
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'port: eighty\n');
    const r = await runCli(['resolver', 'query', 'good.test', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/port: expected a whole number/);
  });
});

describe('mta-sts resolver (daemon)', () => {
  it('starts from a config file, reports unknown keys, notifies systemd, drains on SIGTERM', async () => {
    // A stand-in for systemd-notify records what it was asked to say.
    const bin = join(dir, 'bin');
    const notes = join(dir, 'notify.log');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    await writeFile(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> ${notes}\n`);
    await chmod(join(bin, 'systemd-notify'), 0o755);
    const config = join(dir, 'daemon.yml');
    await writeFile(
      config,
      [
        'host: 127.0.0.1',
        'port: 0',
        'shutdown_timeout: 20',
        'cache: {type: internal, options: {cache_size: 100}}',
        'default_zone: {strict_testing: false, timeout: 4}',
        'no_such_key: 1',
        `resolver: ["${sim.dns.address}:${sim.dns.port}"]`,
        `ca_file: ${sim.caFile}`,
        `connect_to: [${sim.connectTo.map((c) => `"${formatConnectTo(c)}"`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'resolver', '--config', config], {
      env: { ...process.env, NOTIFY_SOCKET: '/run/fake-notify', PATH: `${bin}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    const listening = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        logs += d;
        const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(logs);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`daemon exited: ${logs}`)));
    });
    const port = await listening;
    const target = { host: '127.0.0.1', port };
    expect(await socketmapExchange(target, ['postfix good.test'])).toEqual([
      'OK secure match=mail.good.test:mx2.good.test servername=hostname',
    ]);
    // A lookup still in progress when SIGTERM arrives is answered before the daemon exits.
    // SIGTERM once the daemon is fetching slow.test's policy (which the simulator delays).
    const fetching = sim.nextPolicyRequest('slow.test');
    const slow = socketmapExchange(target, ['postfix slow.test']);
    await fetching;
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await slow).toEqual(['OK secure match=mail.slow.test servername=hostname']);
    expect(await exited).toBe(0);
    const lines = logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => /no_such_key: unknown key/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
    expect(await readFile(notes, 'utf8')).toMatch(/--ready/);
  }, 30_000);
});
