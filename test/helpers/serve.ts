// Fixtures for the `mta-sts serve` tests: a config file, certificates from a throw-away CA,
// a server on loopback port 0, and raw HTTPS requests with a chosen SNI name.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { type RunningServe, type ServeOptions, startServe } from '../../src/server/listen.js';
import { createTestCa, type TestCa } from '../../src/sim/ca.js';

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

export function captureLogger() {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, obj: {}, msg: obj });
      else lines.push({ level, obj: obj as Record<string, unknown>, ...(msg !== undefined ? { msg } : {}) });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export interface ServeFixture {
  dir: string;
  configPath: string;
  certsDir: string;
  dbPath: string;
  ca: TestCa;
  caFile: string;
  issue(host: string, days?: number): Promise<{ certPem: string; keyPem: string }>;
  writeCert(host: string, days?: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function configYaml(
  domains: Record<string, { mode: string; mx: string[]; max_age?: number }>,
): string {
  const lines = ['domains:'];
  for (const [d, v] of Object.entries(domains)) {
    lines.push(`  ${d}:`, `    mode: ${v.mode}`, `    mx: [${v.mx.join(', ')}]`);
    if (v.max_age !== undefined) lines.push(`    max_age: ${v.max_age}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function makeServeFixture(
  domains: Record<string, { mode: string; mx: string[]; max_age?: number }>,
  extraCertHosts: string[] = [],
): Promise<ServeFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mta-sts-serve-'));
  const certsDir = join(dir, 'certs');
  await mkdir(certsDir);
  const configPath = join(dir, 'mta-sts.yaml');
  await writeFile(configPath, configYaml(domains));
  const ca = await createTestCa('mta-sts-kit serve test CA');
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  const issue = async (host: string, days = 90) => {
    const now = Date.now();
    return ca.issue({
      dnsNames: [host],
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + days * 86_400_000),
    });
  };
  const writeCert = async (host: string, days = 90) => {
    const c = await issue(host, days);
    await writeFile(join(certsDir, `${host}.pem`), c.certPem);
    await writeFile(join(certsDir, `${host}.key`), c.keyPem);
  };
  for (const d of Object.keys(domains)) await writeCert(`mta-sts.${d}`);
  for (const h of extraCertHosts) await writeCert(h);
  return {
    dir,
    configPath,
    certsDir,
    dbPath: join(dir, 'reports.db'),
    ca,
    caFile,
    issue,
    writeCert,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function startTestServe(
  fx: ServeFixture,
  overrides: Partial<ServeOptions> = {},
): Promise<{ server: RunningServe; logs: LogLine[] }> {
  const { lines, logger } = captureLogger();
  const server = await startServe({
    configPath: fx.configPath,
    certsDir: fx.certsDir,
    listen: { host: '127.0.0.1', port: 0 },
    dashboardListen: { host: '127.0.0.1', port: 0 },
    dbUrl: fx.dbPath,
    watch: false,
    logger,
    ...overrides,
  });
  return { server, logs: lines };
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  httpVersion: string;
  certFingerprint?: string;
  protocol?: string;
}

/** One HTTPS request on a fresh connection, SNI and Host chosen by the test. */
export function httpsRequest(opts: {
  port: number;
  servername: string;
  ca: string;
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  maxVersion?: tls.SecureVersion;
  minVersion?: tls.SecureVersion;
}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: opts.port,
        servername: opts.servername,
        ca: opts.ca,
        path: opts.path ?? '/.well-known/mta-sts.txt',
        method: opts.method ?? 'GET',
        agent: false,
        headers: { host: opts.host ?? opts.servername, ...opts.headers },
        ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as tls.TLSSocket;
        const cert = socket.getPeerCertificate();
        const protocol = socket.getProtocol() ?? undefined;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            httpVersion: res.httpVersion,
            ...(cert?.fingerprint256 ? { certFingerprint: cert.fingerprint256 } : {}),
            ...(protocol ? { protocol } : {}),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A raw TLS connection: write bytes as given, read everything until the server closes. */
export function rawTls(opts: {
  port: number;
  servername?: string;
  ca: string;
  send: string;
  /** Do not end our side after sending (a slow client). */
  keepOpen?: boolean;
}): Promise<{ data: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: opts.port,
      ca: opts.ca,
      ...(opts.servername ? { servername: opts.servername } : {}),
    });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => {
      socket.write(opts.send);
    });
    socket.on('data', (d: string) => {
      data += d;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ data, closedByServer: true }));
  });
}

/** A TCP connection that sends bytes and reports what came back until close. */
export function rawTcp(port: number, send: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(send));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      data += d;
    });
    s.on('error', reject);
    s.on('close', () => resolve(data));
  });
}

export interface ReportSpec {
  org: string;
  reportId: string;
  /** YYYY-MM-DD */
  day: string;
  domain: string;
  mode?: string;
  successful: number;
  failures?: Array<{ type: string; mx?: string; ip?: string; count: number }>;
}

/** An RFC 8460 §4.4 report as JSON text. */
export function tlsrptJson(s: ReportSpec): string {
  const failed = (s.failures ?? []).reduce((a, f) => a + f.count, 0);
  return JSON.stringify({
    'organization-name': s.org,
    'date-range': { 'start-datetime': `${s.day}T00:00:00Z`, 'end-datetime': `${s.day}T23:59:59Z` },
    'contact-info': `tlsrpt@${s.org.replace(/[^a-z0-9]/gi, '').toLowerCase() || 'x'}.example`,
    'report-id': s.reportId,
    policies: [
      {
        policy: {
          'policy-type': 'sts',
          'policy-string': [
            'version: STSv1',
            `mode: ${s.mode ?? 'testing'}`,
            `mx: mx1.${s.domain}`,
            'max_age: 86400',
          ],
          'policy-domain': s.domain,
          'mx-host': [`mx1.${s.domain}`],
        },
        summary: { 'total-successful-session-count': s.successful, 'total-failure-session-count': failed },
        'failure-details': (s.failures ?? []).map((f) => ({
          'result-type': f.type,
          'sending-mta-ip': '192.0.2.10',
          'receiving-mx-hostname': f.mx ?? `mx1.${s.domain}`,
          'receiving-ip': f.ip ?? '198.51.100.7',
          'failed-session-count': f.count,
        })),
      },
    ],
  });
}

export function isoDayOffset(days: number, from = new Date()): string {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()) + days * 86_400_000)
    .toISOString()
    .slice(0, 10);
}

/** A fixed set of reports with known totals, for the dashboard tests (relative to today). */
export function knownReports(): {
  reports: ReportSpec[];
  totals: Record<string, { successful: number; failed: number }>;
} {
  const reports: ReportSpec[] = [];
  for (let i = 1; i <= 20; i++) {
    // example.com: clean for 20 days from two reporters -> looks safe to enforce.
    reports.push({
      org: 'Google Inc.',
      reportId: `g-com-${i}`,
      day: isoDayOffset(-i),
      domain: 'example.com',
      successful: 100,
    });
    reports.push({
      org: 'Microsoft Corporation',
      reportId: `m-com-${i}`,
      day: isoDayOffset(-i),
      domain: 'example.com',
      successful: 50,
    });
  }
  for (let i = 1; i <= 5; i++) {
    reports.push({
      org: 'Google Inc.',
      reportId: `g-org-${i}`,
      day: isoDayOffset(-i),
      domain: 'example.org',
      successful: 40,
      failures: [{ type: 'certificate-host-mismatch', mx: 'mx2.example.org', count: 2 }],
    });
  }
  reports.push({
    org: '<script>alert(1)</script>',
    reportId: 'evil-<img src=x onerror=alert(2)>',
    day: isoDayOffset(-2),
    domain: 'example.org',
    successful: 10,
    failures: [{ type: 'starttls-not-supported', mx: '<b>mx</b>.example.org', count: 3 }],
  });
  return {
    reports,
    totals: {
      'example.com': { successful: 3000, failed: 0 },
      'example.org': { successful: 210, failed: 13 },
    },
  };
}

export async function postReport(
  port: number,
  ca: string,
  host: string,
  path: string,
  json: string,
  type = 'application/tlsrpt+json',
) {
  return httpsRequest({
    port,
    servername: host,
    ca,
    path,
    method: 'POST',
    headers: { 'content-type': type },
    body: json,
  });
}

/** `mta-sts serve` as a child process (the built CLI), its JSON log lines parsed as they come. */
export interface ServeProcess {
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolve with the first log line matching, or reject when the process exits first. */
  waitFor(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  https: { host: string; port: number };
  dashboard?: string;
  signal(signal: NodeJS.Signals): void;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('./cli.js');
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  let buffer = '';
  const waiters: Array<{
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    raw += d;
    buffer += d;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.match(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stdout.resume();
  void exited.then((code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`serve exited (${code}):\n${raw}`));
  });
  const waitFor = (match: (l: Record<string, unknown>) => boolean) => {
    const found = lines.find(match);
    if (found) return Promise.resolve(found);
    if (child.exitCode !== null)
      return Promise.reject(new Error(`serve exited (${child.exitCode}):\n${raw}`));
    return new Promise<Record<string, unknown>>((resolve, reject) =>
      waiters.push({ match, resolve, reject }),
    );
  };
  const serving = await waitFor((l) => l.msg === 'serving');
  const parse = (s: string) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
    return { host: m?.[1] ?? '', port: Number(m?.[2]) };
  };
  return {
    lines,
    stderr: () => raw,
    waitFor,
    https: parse(String(serving.https)),
    ...(serving.dashboard ? { dashboard: `http://${String(serving.dashboard)}/` } : {}),
    signal(signal: NodeJS.Signals) {
      child.kill(signal);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
