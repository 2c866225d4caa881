// `mta-sts demo --demo-duration`: after the usual demo, `mta-sts serve` runs on the simulated
// domains with the demo's reports; the printed dashboard URL works, the policy host answers,
// and Ctrl-C (SIGINT) ends it early with the usual exit status. Screenshots of the demo
// dashboard (realistic figures) go to test-artifacts/screenshots/demo-*.png.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser, SCREENSHOT_DIR } from './helpers/browser.js';
import { BIN } from './helpers/cli.js';
import { httpsRequest } from './helpers/serve.js';

describe('mta-sts demo --demo-duration', () => {
  it('prints the dashboard URL, serves the demo, and stops on SIGINT', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--demo-duration', '300'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const info = await new Promise<{ dashboard: string; https: string; caFile: string }>(
      (resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          const dash = /dashboard: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
          const curl = /--cacert (\S+) --connect-to mta-sts\.healthy\.example:443:(127\.0\.0\.1:\d+)/.exec(
            stdout,
          );
          if (dash && curl) resolve({ dashboard: dash[1]!, caFile: curl[1]!, https: curl[2]! });
        });
        void exited.then((code) => reject(new Error(`demo exited (${code}) early:\n${stdout}\n${stderr}`)));
      },
    );
    expect(stdout).toMatch(/1\. mta-sts init/);
    expect(stdout).toMatch(/2\. mta-sts check/);
    expect(stdout).toMatch(/3\. TLS reports/);
    expect(stdout).toMatch(/4\. mta-sts serve/);

    const overview = await (await fetch(info.dashboard)).text();
    for (const d of ['healthy.example', 'testing.example', 'stale.example'])
      expect(overview).toContain(`data-domain="${d}"`);
    expect(overview).toMatch(/data-domain="testing\.example"[\s\S]*?data-field="failed">[1-9]/);

    const ca = await readFile(info.caFile, 'utf8');
    const policy = await httpsRequest({
      port: Number(info.https.split(':')[1]),
      servername: 'mta-sts.healthy.example',
      ca,
    });
    expect(policy.status).toBe(200);
    expect(policy.body).toContain('mode: enforce');

    if (chromiumAvailable()) {
      const browser = await launchBrowser({ width: 1200, height: 800 });
      try {
        const page = await browser.context.newPage();
        await page.goto(info.dashboard);
        await page.screenshot({ path: join(SCREENSHOT_DIR, 'demo-overview.png'), fullPage: true });
        await page.goto(`${info.dashboard}failures?domain=testing.example`);
        await page.screenshot({ path: join(SCREENSHOT_DIR, 'demo-failures.png'), fullPage: true });
        await page.locator('#failure-table a').first().click();
        await page.waitForURL(/\/reports\/\d+$/);
        await page.screenshot({ path: join(SCREENSHOT_DIR, 'demo-report.png'), fullPage: true });
        // Wait for a finished live check of every domain, then show it.
        await fetch(`${info.dashboard}status/check?wait=1`, { method: 'POST', redirect: 'manual' });
        await page.goto(`${info.dashboard}status`);
        expect(await page.locator('[data-field=verdict]').count()).toBe(3);
        await page.screenshot({ path: join(SCREENSHOT_DIR, 'demo-status.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/Try it yourself/);
    expect(stderr).toBe('');
  });
});
