// The `mta-sts serve` command as an operator runs it: refusals with exit 2, the bound
// addresses in the log, reload on SIGHUP and on a file change, graceful stop on SIGTERM.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import {
  configYaml,
  httpsRequest,
  makeServeFixture,
  type ServeFixture,
  spawnServe,
} from './helpers/serve.js';

describe('mta-sts serve (CLI)', () => {
  let fx: ServeFixture;
  beforeAll(async () => {
    fx = await makeServeFixture({ 'example.com': { mode: 'testing', mx: ['mx1.example.com'] } });
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('refuses a dashboard off loopback without credentials, and other bad starts, with exit 2', async () => {
    const base = [
      'serve',
      '--config',
      fx.configPath,
      '--listen',
      '127.0.0.1:0',
      '--no-check',
      '--db',
      fx.dbPath,
    ];
    const open = await runCli([...base, '--certs', fx.certsDir, '--dashboard-listen', '0.0.0.0:0'], {
      env: { MTA_STS_DASHBOARD_TOKEN: '' },
    });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/not on loopback/);
    const noCerts = await runCli(base);
    expect(noCerts.code).toBe(2);
    expect(noCerts.stderr).toMatch(/--certs/);
    const badListen = await runCli([...base, '--certs', fx.certsDir, '--listen', 'nonsense']);
    expect(badListen.code).toBe(2);
    const badConfig = await runCli([
      'serve',
      '--config',
      join(fx.dir, 'missing.yaml'),
      '--certs',
      fx.certsDir,
    ]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/missing\.yaml/);
  });

  it('logs where it listens, reloads on SIGHUP and on file change, stops on SIGTERM with 0', {
    timeout: 60_000,
  }, async () => {
    const tokenFile = join(fx.dir, 'token');
    await writeFile(tokenFile, 'cli-test-token-0123456789\n');
    const serve = await spawnServe([
      '--config',
      fx.configPath,
      '--certs',
      fx.certsDir,
      '--listen',
      '127.0.0.1:0',
      '--dashboard-listen',
      '127.0.0.1:0',
      '--dashboard-token-file',
      tokenFile,
      '--no-check',
      '--db',
      fx.dbPath,
    ]);
    try {
      expect(serve.https.port).toBeGreaterThan(0);
      const dash = serve.dashboard!;
      expect((await fetch(dash)).status).toBe(401);
      expect(
        (await fetch(dash, { headers: { authorization: 'Bearer cli-test-token-0123456789' } })).status,
      ).toBe(200);

      // A new domain and its certificate, picked up by the file watcher.
      await fx.writeCert('mta-sts.example.net');
      await writeFile(
        fx.configPath,
        configYaml({
          'example.com': { mode: 'testing', mx: ['mx1.example.com'] },
          'example.net': { mode: 'enforce', mx: ['mx.example.net'] },
        }),
      );
      await serve.waitFor((l) => l.msg === 'config loaded' && l.domains === 2);
      await serve.waitFor((l) => l.msg === 'certificate loaded' && l.host === 'mta-sts.example.net');
      const r = await httpsRequest({
        port: serve.https.port,
        servername: 'mta-sts.example.net',
        ca: fx.ca.certPem,
      });
      expect(r.status).toBe(200);
      expect(r.body).toContain('mode: enforce');

      const before = serve.lines.filter((l) => l.msg === 'config loaded' && l.reason === 'SIGHUP').length;
      expect(before).toBe(0);
    } finally {
      // SIGHUP first (a reload), then SIGTERM.
      serve.signal('SIGHUP');
      await serve.waitFor((l) => l.msg === 'config loaded' && l.reason === 'SIGHUP');
      expect(await serve.stop('SIGTERM')).toBe(0);
      expect(serve.lines.some((l) => l.msg === 'stopped')).toBe(true);
    }
  });
});
