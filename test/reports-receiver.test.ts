// The RFC 8460 §5.4 HTTPS receiver through a real HTTP server on loopback.
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyReportStore } from '../src/reports/store.js';
import { createTlsrptReceiver } from '../src/server/tlsrpt-receiver.js';
import { backends, openFresh } from './helpers/report-backends.js';
import { TLSRPT_FIXTURES } from './helpers/shared.js';

const FIXTURES = TLSRPT_FIXTURES;

for (const backend of backends()) {
  describe.skipIf(backend.skip !== undefined)(`TLS-RPT HTTPS receiver on ${backend.name}`, () => {
    let store: KyselyReportStore;
    let server: ReturnType<typeof serve>;
    let base = '';
    const results: Array<{ status: number; outcome: string }> = [];

    beforeAll(async () => {
      await backend.setup();
      store = await openFresh(backend);
      const handler = createTlsrptReceiver({ store, maxBytes: 64 * 1024, onResult: (r) => results.push(r) });
      await new Promise<void>((resolve) => {
        server = serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }, () => resolve());
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await backend.teardown();
    });

    const post = (body: Uint8Array | string, type: string) =>
      fetch(base, { method: 'POST', headers: { 'content-type': type }, body });

    it('answers 201 once stored, 200 for a duplicate, and the report is queryable', async () => {
      const json = await readFile(`${FIXTURES}/rfc8460-example.json`);
      const r1 = await post(gzipSync(json), 'application/tlsrpt+gzip');
      expect(r1.status).toBe(201);
      expect(await r1.text()).toMatch(/stored as report \d+/);
      const [stored] = await store.show('5065427c-23d3-47ca-b6e0-946ea0e8c4be');
      expect(stored!.source).toBe('https');
      expect(stored!.failed).toBe(303);

      const r2 = await post(
        await readFile(`${FIXTURES}/rfc8460-errata-6241.json`),
        'application/tlsrpt+json; charset=utf-8',
      );
      expect(r2.status).toBe(200);
      expect(await r2.text()).toMatch(/duplicate/);

      const r3 = await post(await readFile(`${FIXTURES}/microsoft-2.json`), 'application/tlsrpt+json');
      expect(r3.status).toBe(201);
      expect((await store.summary({ domain: 'random.net' })).totals.successful).toBe(2);
    });

    it('rejects garbage with 400 and a reason', async () => {
      const bad = await post('{"organization-name": "x"', 'application/tlsrpt+json');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/invalid JSON/);
      const notReport = await post('{"a": 1}', 'application/tlsrpt+json');
      expect(notReport.status).toBe(400);
      expect(await notReport.text()).toMatch(/not a TLS report/);
      const gz = gzipSync(await readFile(`${FIXTURES}/google-5.json`));
      const truncated = await post(gz.subarray(0, 20), 'application/tlsrpt+gzip');
      expect(truncated.status).toBe(400);
      expect(await truncated.text()).toMatch(/truncated/);
      const plainAsGzip = await post('{}', 'application/tlsrpt+gzip');
      expect(plainAsGzip.status).toBe(400);
    });

    it('answers 413 above the size limits, 415 for other media types, 405 for other methods', async () => {
      const big = await post(Buffer.alloc(200 * 1024, 0x20), 'application/tlsrpt+json');
      expect(big.status).toBe(413);
      // 40 MiB of spaces gzip to ~40 KiB, under the body cap but over the decompressed cap.
      const bomb = await post(gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)), 'application/tlsrpt+gzip');
      expect(bomb.status).toBe(413);
      const media = await post('{}', 'application/json');
      expect(media.status).toBe(415);
      const none = await fetch(base, { method: 'POST', body: 'x' });
      expect(none.status).toBe(415);
      const get = await fetch(base);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(results.map((r) => r.outcome)).toContain('too-large');
    });
  });
}
