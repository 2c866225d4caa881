// The TLS-RPT receiver mounted in `mta-sts serve` (RFC 8460 §5.4): reports POSTed to the
// configured host and path are stored; size and rate limits per client; /metrics and /healthz.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServe } from '../src/server/listen.js';
import {
  httpsRequest,
  isoDayOffset,
  makeServeFixture,
  postReport,
  type ServeFixture,
  startTestServe,
  tlsrptJson,
} from './helpers/serve.js';

const REPORTS_HOST = 'reports.example.net';

describe('mta-sts serve: TLS-RPT receiver, metrics, health', () => {
  let fx: ServeFixture;
  let server: RunningServe;
  let port: number;
  let dash: string;

  beforeAll(async () => {
    fx = await makeServeFixture({ 'example.com': { mode: 'testing', mx: ['mx1.example.com'] } }, [
      REPORTS_HOST,
    ]);
    ({ server } = await startTestServe(fx, {
      reports: { host: REPORTS_HOST, path: '/tlsrpt', maxBytes: 64 * 1024, perMinute: 60, burst: 6 },
    }));
    port = server.https.port;
    dash = server.dashboardUrl!;
  });
  afterAll(async () => {
    await server?.stop();
    await fx?.cleanup();
  });

  const report = (id: string, failed = 0) =>
    tlsrptJson({
      org: 'Example Sender',
      reportId: id,
      day: isoDayOffset(-1),
      domain: 'example.com',
      successful: 10,
      failures: failed ? [{ type: 'certificate-expired', count: failed }] : [],
    });

  it('stores a POSTed report (json and gzip), 200 for a duplicate', async () => {
    const a = await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', report('r1', 4));
    expect(a.status).toBe(201);
    const gz = await httpsRequest({
      port,
      servername: REPORTS_HOST,
      ca: fx.ca.certPem,
      path: '/tlsrpt',
      method: 'POST',
      headers: { 'content-type': 'application/tlsrpt+gzip' },
      body: gzipSync(report('r2')),
    });
    expect(gz.status).toBe(201);
    const dup = await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', report('r1', 4));
    expect(dup.status).toBe(200);
    const list = await server.store.list({});
    expect(list.map((r) => r.reportId).sort()).toEqual(['r1', 'r2']);
  });

  it('only at the configured path and host, with the right media type', async () => {
    expect((await postReport(port, fx.ca.certPem, REPORTS_HOST, '/other', report('x'))).status).toBe(404);
    expect(
      (await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', report('x'), 'application/json'))
        .status,
    ).toBe(415);
    // The policy host does not take reports.
    expect(
      (await postReport(port, fx.ca.certPem, 'mta-sts.example.com', '/tlsrpt', report('x'))).status,
    ).toBe(405);
    expect(
      (await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', '{"not":"a report"}')).status,
    ).toBe(400);
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
    const r = await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', big);
    expect(r.status).toBe(413);
  });

  it('limits the rate per client address with 429 and Retry-After', async () => {
    let limited: Awaited<ReturnType<typeof postReport>> | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const r = await postReport(port, fx.ca.certPem, REPORTS_HOST, '/tlsrpt', report(`burst-${i}`));
      if (r.status === 429) limited = r;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('/metrics: requests, reports received and rejected, failed sessions, certificate expiry', async () => {
    const scan = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      host: 'scanner.invalid',
      ca: fx.ca.certPem,
    });
    expect(scan.status).toBe(404);
    const m = await (await fetch(`${dash}metrics`)).text();
    expect(m).toMatch(
      /mta_sts_serve_http_requests_total\{listener="https",host="reports\.example\.net",status="201"\} \d+/,
    );
    expect(m).toMatch(/mta_sts_serve_reports_received_total\{outcome="ingested"\} [2-9]/);
    expect(m).toMatch(/mta_sts_serve_reports_received_total\{outcome="duplicate"\} 1/);
    expect(m).toMatch(/mta_sts_serve_reports_rejected_total\{reason="too-large"\} 1/);
    expect(m).toMatch(/mta_sts_serve_reports_rejected_total\{reason="rate-limited"\} 1/);
    expect(m).toMatch(/mta_sts_serve_reports_rejected_total\{reason="media-type"\} 1/);
    expect(m).toMatch(
      /mta_sts_serve_failed_sessions\{domain="example\.com",result_type="certificate-expired"\} 4/,
    );
    expect(m).toMatch(/mta_sts_serve_certificate_expiry_days\{host="mta-sts\.example\.com"\} (89|90)/);
    expect(m).toMatch(/mta_sts_serve_http_requests_total\{listener="https",host="other"/);
  });

  it('/healthz answers JSON', async () => {
    const r = await fetch(`${dash}healthz`);
    expect(r.status).toBe(200);
    const j = (await r.json()) as { status: string; domains: number; missingCertificates: string[] };
    expect(j.status).toBe('ok');
    expect(j.domains).toBe(1);
    expect(j.missingCertificates).toEqual([]);
  });
});
