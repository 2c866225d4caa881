// The dashboard in a real browser (Debian's chromium through playwright-core): log in, read the
// overview numbers for a known set of reports, filter the failure table, open a report, look at
// live status; a screenshot of each page goes to test-artifacts/screenshots/.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServe } from '../src/server/listen.js';
import { demoScenario } from '../src/sim/demo-scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { chromiumAvailable, launchBrowser, SCREENSHOT_DIR } from './helpers/browser.js';
import {
  knownReports,
  makeServeFixture,
  postReport,
  type ServeFixture,
  startTestServe,
  tlsrptJson,
} from './helpers/serve.js';

const available = chromiumAvailable();
if (!available && process.env.CI) throw new Error('chromium is required in CI: apt-get install chromium');

const TOKEN = 'browser-test-token-0123456789';
const REPORTS_HOST = 'reports.example.net';

describe.skipIf(!available)('dashboard in chromium', () => {
  let sim: Simulation;
  let fx: ServeFixture;
  let server: RunningServe;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const dialogs: string[] = [];

  beforeAll(async () => {
    sim = await startSimulation(demoScenario);
    fx = await makeServeFixture(
      {
        'example.com': { mode: 'testing', mx: ['mx1.example.com'] },
        'example.org': { mode: 'testing', mx: ['mx1.example.org', 'mx2.example.org'] },
        'healthy.example': { mode: 'enforce', mx: ['mx1.healthy.example', 'mx2.healthy.example'] },
        'testing.example': { mode: 'testing', mx: ['mx1.testing.example', 'mx2.testing.example'] },
      },
      [REPORTS_HOST],
    );
    ({ server } = await startTestServe(fx, {
      reports: { host: REPORTS_HOST, path: '/tlsrpt', perMinute: 10_000, burst: 10_000 },
      dashboardAuth: { token: TOKEN },
      check: {
        intervalSeconds: 0,
        resolvers: [`${sim.dns.address}:${sim.dns.port}`],
        caFile: sim.caFile,
        noSystemCa: true,
        connectTo: sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
        timeoutSeconds: 5,
      },
    }));
    for (const r of knownReports().reports) {
      const res = await postReport(server.https.port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', tlsrptJson(r));
      expect(res.status).toBe(201);
    }
    await server.live?.idle();
    browser = await launchBrowser();
    browser.context.on('page', (p) =>
      p.on('dialog', (d) => void dialogs.push(d.message()).valueOf() && d.dismiss()),
    );
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await fx?.cleanup();
    await sim?.stop();
  });

  it('log in, overview numbers, filter failures, open a report, live status', {
    timeout: 120_000,
  }, async () => {
    const page = await browser.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const base = server.dashboardUrl!;

    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'login.png') });
    await page.fill('#token', 'wrong-token-wrong');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Wrong credentials');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(base);

    const card = (d: string) => page.locator(`section.card[data-domain="${d}"]`);
    expect(await card('example.com').locator('[data-field=successful]').textContent()).toBe('3,000');
    expect(await card('example.com').locator('[data-field=failed]').textContent()).toBe('0');
    expect(await card('example.com').locator('[data-field=readiness]').textContent()).toBe('looks safe');
    expect(await card('example.org').locator('[data-field=successful]').textContent()).toBe('210');
    expect(await card('example.org').locator('[data-field=failed]').textContent()).toBe('13');
    expect(await card('example.org').locator('[data-field=rate]').textContent()).toBe('5.83%');
    expect(await card('example.org').locator('[data-field=readiness]').textContent()).toBe('not yet');
    expect(await card('example.org').locator('svg.chart rect.fail').count()).toBe(5);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'overview.png'), fullPage: true });

    await page.click('nav >> text=Failures');
    await page.selectOption('select[name=domain]', 'example.org');
    await page.selectOption('select[name=result]', 'starttls-not-supported');
    await page.click('#failure-filters button[type=submit]');
    await page.waitForURL(/result=starttls-not-supported/);
    const rows = page.locator('#failure-table tbody tr');
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells[1]).toBe('example.org');
    expect(cells[2]).toBe('starttls-not-supported');
    // Attacker-controlled fields show as text, not markup.
    expect(cells[3]).toBe('<script>alert(1)</script>');
    expect(cells[4]).toBe('<b>mx</b>.example.org');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'failures-filtered.png'), fullPage: true });
    await page.goto(`${base}failures`);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'failures.png'), fullPage: true });

    await page.goBack();
    await rows.first().locator('a').click();
    await page.waitForURL(/\/reports\/\d+$/);
    expect(await page.textContent('[data-field=organization]')).toBe('<script>alert(1)</script>');
    expect(await page.textContent('[data-field=report-id]')).toBe('evil-<img src=x onerror=alert(2)>');
    expect(await page.textContent('#raw-json')).toContain('"organization-name": "<script>alert(1)</script>"');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report.png'), fullPage: true });

    await page.click('nav >> text=Live status');
    await page.click('text=Check all now');
    await server.live?.idle();
    await page.goto(`${base}status`);
    expect(
      await page.locator('section.card[data-domain="healthy.example"] [data-field=verdict]').textContent(),
    ).toBe('ok');
    expect(
      await page.locator('section.card[data-domain="testing.example"] [data-field=verdict]').textContent(),
    ).toBe('fail');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'status.png'), fullPage: true });

    expect(dialogs).toEqual([]);
  });

  it('is usable on a phone screen', { timeout: 60_000 }, async () => {
    const phone = await launchBrowser({ width: 390, height: 844 });
    try {
      const page = await phone.context.newPage();
      const base = server.dashboardUrl!;
      await page.goto(base);
      await page.fill('#token', TOKEN);
      await page.click('button[type=submit]');
      await page.waitForURL(base);
      // No horizontal scrolling of the page itself (wide tables scroll in their own box).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'overview-phone.png'), fullPage: true });
      await page.goto(`${base}failures`);
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      ).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'failures-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });
});
