// `mta-sts serve` as a policy host (RFC 8461 §3.3): every configured mta-sts.<domain>, SNI
// certificates, unknown hosts, limits, HTTP/1.0, reloads that keep the old certificate.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStsPolicy } from '../src/core/sts-policy.js';
import type { RunningServe } from '../src/server/listen.js';
import {
  configYaml,
  httpsRequest,
  type LogLine,
  makeServeFixture,
  rawTcp,
  rawTls,
  type ServeFixture,
  startTestServe,
} from './helpers/serve.js';

const DOMAINS = {
  'example.com': { mode: 'enforce', mx: ['mx1.example.com', 'mx2.example.com'] },
  'example.org': { mode: 'testing', mx: ['"*.mail.example.org"'], max_age: 86400 },
};

describe('mta-sts serve: policy host', () => {
  let fx: ServeFixture;
  let server: RunningServe;
  let logs: LogLine[];
  let port: number;

  beforeAll(async () => {
    fx = await makeServeFixture(DOMAINS);
    ({ server, logs } = await startTestServe(fx, {
      httpListen: { host: '127.0.0.1', port: 0 },
      limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, checkIntervalMs: 100, maxHeaderBytes: 4096 },
    }));
    port = server.https.port;
  });
  afterAll(async () => {
    await server?.stop();
    await fx?.cleanup();
  });

  it('serves each configured domain its canonical policy: 200, text/plain, no redirect', async () => {
    for (const [domain, expected] of [
      [
        'example.com',
        'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n',
      ],
      ['example.org', 'version: STSv1\nmode: testing\nmx: *.mail.example.org\nmax_age: 86400\n'],
    ] as const) {
      const r = await httpsRequest({ port, servername: `mta-sts.${domain}`, ca: fx.ca.certPem });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.headers.location).toBeUndefined();
      expect(r.body).toBe(expected);
      expect(parseStsPolicy(r.body).ok).toBe(true);
      expect(['TLSv1.2', 'TLSv1.3']).toContain(r.protocol);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      ca: fx.ca.certPem,
      method: 'HEAD',
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(Number(r.headers['content-length'])).toBeGreaterThan(40);
  });

  it('refuses other methods on the policy path', async () => {
    const r = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      ca: fx.ca.certPem,
      method: 'POST',
      body: 'x',
    });
    expect(r.status).toBe(405);
  });

  it('host matching ignores case, a port and a trailing dot', async () => {
    const r = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      host: 'MTA-STS.Example.COM.:443',
      ca: fx.ca.certPem,
    });
    expect(r.status).toBe(200);
  });

  it('answers an unknown Host header with 404, on a name it has a certificate for', async () => {
    const r = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      host: 'mta-sts.unknown.test',
      ca: fx.ca.certPem,
    });
    expect(r.status).toBe(404);
  });

  it('refuses the TLS handshake for a name it has no certificate for, and without SNI', async () => {
    await expect(
      httpsRequest({ port, servername: 'mta-sts.unknown.test', ca: fx.ca.certPem }),
    ).rejects.toThrow(/alert/i);
    // An address literal sends no SNI: there is no default certificate to fall back to.
    await expect(
      rawTls({ port, ca: fx.ca.certPem, send: 'GET / HTTP/1.1\r\nHost: mta-sts.example.com\r\n\r\n' }),
    ).rejects.toThrow();
  });

  it('refuses TLS below 1.2', async () => {
    await expect(
      httpsRequest({
        port,
        servername: 'mta-sts.example.com',
        ca: fx.ca.certPem,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
      }),
    ).rejects.toThrow();
  });

  it('shows a small HTML page on other paths, and never a file for traversal attempts', async () => {
    const home = await httpsRequest({
      port,
      servername: 'mta-sts.example.com',
      ca: fx.ca.certPem,
      path: '/',
    });
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toMatch(/^text\/html/);
    expect(home.body).toContain('MTA-STS policy for example.com');
    for (const path of [
      '/.well-known/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/.well-known/mta-sts.txt/../../etc/hostname',
      '/..%2f..%2fetc%2fpasswd',
    ]) {
      const r = await rawTls({
        port,
        servername: 'mta-sts.example.com',
        ca: fx.ca.certPem,
        send: `GET ${path} HTTP/1.1\r\nHost: mta-sts.example.com\r\nConnection: close\r\n\r\n`,
      });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(r.data)?.[1]);
      expect(status === 404 || status === 400).toBe(true);
      expect(r.data).not.toMatch(/root:|bin\/bash/);
    }
  });

  it('serves an HTTP/1.0 client without a Host header by its SNI name, then closes', async () => {
    const r = await rawTls({
      port,
      servername: 'mta-sts.example.org',
      ca: fx.ca.certPem,
      send: 'GET /.well-known/mta-sts.txt HTTP/1.0\r\n\r\n',
      keepOpen: true,
    });
    expect(r.data).toMatch(/^HTTP\/1\.[01] 200/);
    expect(r.data).toContain('mode: testing');
    expect(r.closedByServer).toBe(true);
  });

  it('answers oversized headers with 431', async () => {
    const r = await rawTls({
      port,
      servername: 'mta-sts.example.com',
      ca: fx.ca.certPem,
      send: `GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.com\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
    });
    expect(r.data).toMatch(/^HTTP\/1\.1 431/);
  });

  it('drops a client that sends its headers too slowly', async () => {
    const r = await rawTls({
      port,
      servername: 'mta-sts.example.com',
      ca: fx.ca.certPem,
      send: 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.com\r\n',
      keepOpen: true,
    });
    expect(r.closedByServer).toBe(true);
    expect(r.data === '' || /^HTTP\/1\.1 408/.test(r.data)).toBe(true);
  });

  it('plain HTTP: no redirect on the policy path, redirects elsewhere, unknown ACME tokens 404', async () => {
    const httpPort = server.http!.port;
    const policy = await rawTcp(
      httpPort,
      'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.com\r\nConnection: close\r\n\r\n',
    );
    expect(policy).toMatch(/^HTTP\/1\.1 404/);
    expect(policy).not.toMatch(/\r\nlocation:/i);
    const other = await rawTcp(
      httpPort,
      'GET /about?x=1 HTTP/1.1\r\nHost: mta-sts.example.com\r\nConnection: close\r\n\r\n',
    );
    expect(other).toMatch(/^HTTP\/1\.1 301/);
    expect(other).toMatch(/\r\nlocation: https:\/\/mta-sts\.example\.com\/about\?x=1\r\n/i);
    const acme = await rawTcp(
      httpPort,
      'GET /.well-known/acme-challenge/abc HTTP/1.1\r\nHost: mta-sts.example.com\r\nConnection: close\r\n\r\n',
    );
    expect(acme).toMatch(/^HTTP\/1\.1 404/);
  });

  it('keeps serving the old certificate when the new file is malformed, and says why', async () => {
    const before = await httpsRequest({ port, servername: 'mta-sts.example.com', ca: fx.ca.certPem });
    const certFile = join(fx.certsDir, 'mta-sts.example.com.pem');
    const good = await readFile(certFile, 'utf8');
    await writeFile(certFile, good.slice(0, 200));
    await server.reload('test');
    const during = await httpsRequest({ port, servername: 'mta-sts.example.com', ca: fx.ca.certPem });
    expect(during.status).toBe(200);
    expect(during.certFingerprint).toBe(before.certFingerprint);
    const logged = logs.find((l) => l.level === 'error' && l.obj.host === 'mta-sts.example.com');
    expect(logged?.msg).toMatch(/previous one/);
    expect(String(logged?.obj.reason)).toMatch(/parse|PEM/i);

    // A good new pair replaces it without a restart.
    await fx.writeCert('mta-sts.example.com', 60);
    await server.reload('test');
    const after = await httpsRequest({ port, servername: 'mta-sts.example.com', ca: fx.ca.certPem });
    expect(after.status).toBe(200);
    expect(after.certFingerprint).not.toBe(before.certFingerprint);
  });

  it('reloads the config: a new domain is served, a bad config keeps the old one', async () => {
    await fx.writeCert('mta-sts.example.net');
    await writeFile(
      fx.configPath,
      configYaml({ ...DOMAINS, 'example.net': { mode: 'testing', mx: ['mx.example.net'] } }),
    );
    await server.reload('test');
    const r = await httpsRequest({ port, servername: 'mta-sts.example.net', ca: fx.ca.certPem });
    expect(r.status).toBe(200);
    expect(r.body).toContain('mx: mx.example.net');

    await writeFile(fx.configPath, 'domains: [not, a, mapping');
    await server.reload('test');
    expect(logs.some((l) => l.level === 'error' && /config not reloaded/.test(l.msg ?? ''))).toBe(true);
    const still = await httpsRequest({ port, servername: 'mta-sts.example.net', ca: fx.ca.certPem });
    expect(still.status).toBe(200);
  });

  it('keeps a keep-alive connection working across a reload', async () => {
    const https = await import('node:https');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port,
            servername: 'mta-sts.example.com',
            ca: fx.ca.certPem,
            agent,
            path: '/.well-known/mta-sts.txt',
            headers: { host: 'mta-sts.example.com' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect((await get()).status).toBe(200);
    await server.reload('test');
    const second = await get();
    expect(second.status).toBe(200);
    expect(second.reused).toBe(true);
    agent.destroy();
  });
});
