// The dashboard over HTTP (no browser): access control, the numbers on the overview for a
// known set of reports, escaping of report values, failure filters, one report, live status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServe } from '../src/server/listen.js';
import { demoScenario } from '../src/sim/demo-scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import {
  knownReports,
  makeServeFixture,
  postReport,
  type ServeFixture,
  startTestServe,
} from './helpers/serve.js';

const TOKEN = 'test-token-0123456789abcdef';
const REPORTS_HOST = 'reports.example.net';

describe('mta-sts serve: dashboard', () => {
  let fx: ServeFixture;
  let server: RunningServe;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    fx = await makeServeFixture(
      {
        'example.com': { mode: 'testing', mx: ['mx1.example.com'] },
        'example.org': { mode: 'testing', mx: ['mx1.example.org', 'mx2.example.org'] },
      },
      [REPORTS_HOST],
    );
    ({ server } = await startTestServe(fx, {
      reports: { host: REPORTS_HOST, path: '/tlsrpt', perMinute: 10_000, burst: 10_000 },
      dashboardAuth: { token: TOKEN },
    }));
    for (const r of knownReports().reports) {
      const { tlsrptJson } = await import('./helpers/serve.js');
      const res = await postReport(server.https.port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', tlsrptJson(r));
      expect(res.status).toBe(201);
    }
    base = server.dashboardUrl!;
  });
  afterAll(async () => {
    await server?.stop();
    await fx?.cleanup();
  });

  it('no page without credentials: browsers go to the login form, others get 401', async () => {
    for (const path of ['', 'failures', 'reports', 'reports/1', 'status', 'metrics']) {
      const r = await fetch(`${base}${path}`, { redirect: 'manual' });
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
    const browser = await fetch(base, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe('/login?next=%2F');
    const wrong = await fetch(base, { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${base}healthz`)).status).toBe(200);
  });

  it('the login form trades the token for a session cookie; no open redirect', async () => {
    const bad = await fetch(`${base}login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=nope&next=%2F',
    });
    expect(bad.status).toBe(401);
    const ok = await fetch(`${base}login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}&next=${encodeURIComponent('//evil.example/')}`,
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/');
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(base, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const forged = await fetch(base, {
      headers: { cookie: 'mta_sts_session=99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(forged.status).toBe(401);
  });

  it('overview: per-domain totals, failure rate, mode and enforce readiness', async () => {
    const r = await fetch(base, { headers: auth });
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const body = await r.text();
    const card = (d: string) =>
      body.slice(
        body.indexOf(`data-domain="${d}"`),
        body.indexOf('</section>', body.indexOf(`data-domain="${d}"`)),
      );
    const com = card('example.com');
    expect(com).toContain('<b data-field="successful">3,000</b>');
    expect(com).toContain('<b data-field="failed">0</b>');
    expect(com).toContain('data-field="readiness">looks safe');
    const org = card('example.org');
    expect(org).toContain('<b data-field="successful">210</b>');
    expect(org).toContain('<b data-field="failed">13</b>');
    expect(org).toContain('<b data-field="rate">5.83%</b>');
    expect(org).toContain('data-field="readiness">not yet');
    expect(org).toContain('<svg class="chart"');
    expect(body).toContain('data-field="total-sessions">3,223<');
  });

  it('escapes report values: a <script> organization renders as text', async () => {
    const failures = await (await fetch(`${base}failures`, { headers: auth })).text();
    expect(failures).not.toContain('<script>alert(1)</script>');
    expect(failures).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(failures).not.toContain('<img src=x');
    expect(failures).not.toContain('<b>mx</b>');
    const overview = await (await fetch(base, { headers: auth })).text();
    expect(overview).not.toContain('<script>');
  });

  it('failures: breakdowns and the table filtered by domain, dates and result type', async () => {
    const all = await (await fetch(`${base}failures`, { headers: auth })).text();
    expect(all).toMatch(/certificate-host-mismatch<\/a><\/td><td class="num">10</);
    expect(all).toMatch(/starttls-not-supported<\/a><\/td><td class="num">3</);
    const filtered = await (
      await fetch(`${base}failures?domain=example.org&result=starttls-not-supported`, { headers: auth })
    ).text();
    const table = filtered.slice(filtered.indexOf('id="failure-table"'));
    expect(table).toContain('starttls-not-supported');
    expect(table).not.toContain('certificate-host-mismatch');
    const { isoDayOffset } = await import('./helpers/serve.js');
    const dated = await (
      await fetch(`${base}failures?since=${isoDayOffset(-1)}&until=${isoDayOffset(-1)}`, { headers: auth })
    ).text();
    const datedTable = dated.slice(dated.indexOf('id="failure-table"'));
    expect(datedTable.match(/<tr><td class="day">/g)?.length).toBe(1);
    const bad = await (
      await fetch(`${base}failures?since=yesterday&result=%3Cx%3E`, { headers: auth })
    ).text();
    expect(bad).toContain('ignored');
  });

  it('one report: fields and raw JSON', async () => {
    const list = await server.store.list({ limit: 100 });
    const evil = list.find((r) => r.organization.startsWith('<script>'))!;
    const page = await (await fetch(`${base}reports/${evil.id}`, { headers: auth })).text();
    expect(page).toContain('data-field="organization">&#60;script&#62;');
    expect(page).toContain('id="raw-json"');
    expect(page).toContain('&#34;organization-name&#34;');
    expect((await fetch(`${base}reports/999999`, { headers: auth })).status).toBe(404);
  });
});

describe('mta-sts serve: live status against the simulator', () => {
  let sim: Simulation;
  let fx: ServeFixture;
  let server: RunningServe;

  beforeAll(async () => {
    sim = await startSimulation(demoScenario);
    fx = await makeServeFixture({
      'healthy.example': { mode: 'enforce', mx: ['mx1.healthy.example', 'mx2.healthy.example'] },
      'testing.example': { mode: 'testing', mx: ['mx1.testing.example', 'mx2.testing.example'] },
    });
    ({ server } = await startTestServe(fx, {
      check: {
        intervalSeconds: 0,
        resolvers: [`${sim.dns.address}:${sim.dns.port}`],
        caFile: sim.caFile,
        noSystemCa: true,
        connectTo: sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
        timeoutSeconds: 5,
      },
    }));
  });
  afterAll(async () => {
    await server?.stop();
    await fx?.cleanup();
    await sim?.stop();
  });

  it('runs the check on demand and shows each domain with its findings', async () => {
    const base = server.dashboardUrl!;
    const run = await fetch(`${base}status/check?wait=1`, { method: 'POST', redirect: 'manual' });
    expect(run.status).toBe(303);
    const page = await (await fetch(`${base}status`)).text();
    const card = (d: string) =>
      page.slice(
        page.indexOf(`data-domain="${d}"`),
        page.indexOf('</section>', page.indexOf(`data-domain="${d}"`)),
      );
    expect(card('healthy.example')).toContain('data-field="verdict">ok<');
    expect(card('testing.example')).toContain('data-field="verdict">fail<');
    expect(card('testing.example')).toContain('smtp.cert-name-mismatch');
    const crossSite = await fetch(`${base}status/check`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
  });
});
