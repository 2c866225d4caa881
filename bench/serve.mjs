#!/usr/bin/env node
// bench/serve: (1) policy GETs over TLS with keep-alive, `mta-sts serve` vs Debian's nginx
// serving the same file with the same certificate in the same run (one worker process each,
// the same load generator in its own process); (2) the dashboard overview with N stored reports
// (default 1 000 000), median render time.
// Usage: npm run bench -- serve [--reports N] [--seconds S] [--connections C] [--runs R]
//   smoke run: npm run bench -- serve --reports 20000 --seconds 3 --runs 1
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPORTS = arg('--reports', 1_000_000);
const SECONDS = arg('--seconds', 10);
const CONNECTIONS = arg('--connections', 50);
const RUNS = arg('--runs', 3);
const NGINX = '/usr/sbin/nginx';
const HOST = 'mta-sts.bench.example';
const POLICY_PATH = '/.well-known/mta-sts.txt';

if (!existsSync(join(root, 'dist/cli/bin.js'))) {
  console.error('build first: npx tsc -p tsconfig.build.json');
  process.exit(2);
}
const { createTestCa } = await import(join(root, 'dist/sim/ca.js'));
const { startServe } = await import(join(root, 'dist/server/listen.js'));
const { openReportStore } = await import(join(root, 'dist/reports/store.js'));

const dir = mkdtempSync(join(tmpdir(), 'mta-sts-bench-serve-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`)),
    );
  });
}

async function waitForPort(port, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error('server exited');
    const ok = await new Promise((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}

const load = (port) =>
  run(process.execPath, [
    join(root, 'bench/serve-load.mjs'),
    String(port),
    HOST,
    join(dir, 'ca.pem'),
    String(CONNECTIONS),
    String(SECONDS),
    POLICY_PATH,
  ]).then((o) => JSON.parse(o));

// ---- 1. policy host vs nginx -------------------------------------------------------------
const ca = await createTestCa('bench CA');
const now = Date.now();
const leaf = await ca.issue({
  dnsNames: [HOST],
  notBefore: new Date(now - 3600_000),
  notAfter: new Date(now + 30 * 86_400_000),
});
writeFileSync(join(dir, 'ca.pem'), ca.certPem);
mkdirSync(join(dir, 'certs'));
writeFileSync(join(dir, 'certs', `${HOST}.pem`), leaf.certPem);
writeFileSync(join(dir, 'certs', `${HOST}.key`), leaf.keyPem);
writeFileSync(
  join(dir, 'mta-sts.yaml'),
  'domains:\n  bench.example:\n    mode: enforce\n    mx: [mx1.bench.example, mx2.bench.example]\n',
);

const oursPort = await freePort();
const ours = spawn(
  process.execPath,
  [
    join(root, 'dist/cli/bin.js'),
    'serve',
    '--config',
    join(dir, 'mta-sts.yaml'),
    '--certs',
    join(dir, 'certs'),
    '--listen',
    `127.0.0.1:${oursPort}`,
    '--no-dashboard',
    '--no-check',
    '--db',
    join(dir, 'serve.db'),
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
await waitForPort(oursPort, ours);
// The same bytes from nginx: fetch what we serve and put it in nginx's document root.
const policyText = await run('curl', [
  '-s',
  '--cacert',
  join(dir, 'ca.pem'),
  '--connect-to',
  `${HOST}:443:127.0.0.1:${oursPort}`,
  `https://${HOST}${POLICY_PATH}`,
]);
mkdirSync(join(dir, 'www/.well-known'), { recursive: true });
writeFileSync(join(dir, 'www/.well-known/mta-sts.txt'), policyText);
mkdirSync(join(dir, 'nginx/tmp'), { recursive: true });
const nginxPort = await freePort();
writeFileSync(
  join(dir, 'nginx/nginx.conf'),
  `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off; worker_processes 1; pid ${dir}/nginx/nginx.pid; error_log ${dir}/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  client_body_temp_path ${dir}/nginx/tmp/b; proxy_temp_path ${dir}/nginx/tmp/p; fastcgi_temp_path ${dir}/nginx/tmp/f;
  uwsgi_temp_path ${dir}/nginx/tmp/u; scgi_temp_path ${dir}/nginx/tmp/s;
  server {
    listen 127.0.0.1:${nginxPort} ssl; server_name ${HOST};
    ssl_certificate ${dir}/certs/${HOST}.pem; ssl_certificate_key ${dir}/certs/${HOST}.key;
    ssl_protocols TLSv1.2 TLSv1.3; root ${dir}/www;
    location = ${POLICY_PATH} { default_type "text/plain; charset=utf-8"; add_header Cache-Control no-store; }
  }
}
`,
);
let nginx;
const haveNginx = existsSync(NGINX);
if (haveNginx) {
  nginx = spawn(
    NGINX,
    ['-p', join(dir, 'nginx'), '-c', join(dir, 'nginx/nginx.conf'), '-e', join(dir, 'nginx/error.log')],
    { stdio: 'ignore' },
  );
  await waitForPort(nginxPort, nginx);
} else console.error('nginx not found (apt-get install nginx): the comparison is skipped');

const results = { ours: [], nginx: [] };
for (let i = 0; i < RUNS; i++) {
  // Alternate the order so neither side always runs on a warmer machine.
  const order = i % 2 ? ['nginx', 'ours'] : ['ours', 'nginx'];
  for (const who of order) {
    if (who === 'nginx' && !haveNginx) continue;
    results[who].push(await load(who === 'ours' ? oursPort : nginxPort));
  }
}
ours.kill('SIGTERM');
nginx?.kill('SIGTERM');

const summarize = (rs) => ({
  rps: median(rs.map((r) => r.rps)),
  p99: median(rs.map((r) => r.p99Ms)),
  errors: rs.reduce((a, r) => a + r.errors, 0),
});
const o = summarize(results.ours);
console.log(
  `\npolicy GET over TLS, ${CONNECTIONS} keep-alive connections, ${SECONDS} s x ${RUNS} runs (medians), one worker each`,
);
console.log('                       requests/s     p99 ms   errors');
console.log(
  `  mta-sts serve     ${fmt(o.rps).padStart(13)} ${fmt(o.p99, 2).padStart(10)} ${String(o.errors).padStart(8)}`,
);
if (haveNginx) {
  const n = summarize(results.nginx);
  console.log(
    `  nginx (Debian)    ${fmt(n.rps).padStart(13)} ${fmt(n.p99, 2).padStart(10)} ${String(n.errors).padStart(8)}`,
  );
  console.log(
    `  ratio ours/nginx  ${fmt(o.rps / n.rps, 2).padStart(13)} ${fmt(o.p99 / n.p99, 2).padStart(10)}   (target: >= 0.50 of the requests/s, p99 < 10 ms)`,
  );
}

// ---- 2. dashboard overview with N reports ------------------------------------------------
const dbPath = join(dir, 'dashboard.db');
{
  const store = await openReportStore(dbPath);
  await store.close();
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const orgs = ['Google Inc.', 'Microsoft Corporation', 'Mail.ru', 'Comcast', 'Yahoo'];
  const domains = Array.from({ length: 50 }, (_, i) => `domain${i}.example`);
  const insReport = db.prepare(
    `insert into tlsrpt_reports (id, organization, report_id, start_time, end_time, start_day, contact, source, received_at, raw_json, notes, policy_domains, successful, failed)
     values (?, ?, ?, ?, ?, ?, null, 'bench', ?, ?, '[]', ?, ?, ?)`,
  );
  const insPolicy = db.prepare(
    `insert into tlsrpt_policies (id, report_ref, position, organization, start_day, policy_type, policy_domain, policy_mode, policy_strings, mx_hosts, successful, failed, counted)
     values (?, ?, 0, ?, ?, 'sts', ?, 'testing', '[]', '[]', ?, ?, 1)`,
  );
  const insFailure = db.prepare(
    `insert into tlsrpt_failures (report_ref, policy_ref, organization, start_day, policy_domain, policy_type, counted, result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions, failure_reason_code, additional_information)
     values (?, ?, ?, ?, ?, 'sts', 1, ?, '192.0.2.1', ?, null, '198.51.100.1', ?, null, null)`,
  );
  const types = [
    'certificate-host-mismatch',
    'starttls-not-supported',
    'certificate-expired',
    'validation-failure',
  ];
  const t0 = performance.now();
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const batch = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const id = i + 1;
      const org = orgs[i % orgs.length];
      const domain = domains[(i * 7) % domains.length];
      const day = new Date(today - ((i % 400) + 1) * 86_400_000).toISOString().slice(0, 10);
      const failed = i % 10 === 0 ? 1 + (i % 7) : 0;
      const ok = 20 + (i % 50);
      insReport.run(
        id,
        org,
        `r${id}`,
        `${day}T00:00:00Z`,
        `${day}T23:59:59Z`,
        day,
        new Date().toISOString(),
        '{}',
        domain,
        ok,
        failed,
      );
      insPolicy.run(id, id, org, day, domain, ok, failed);
      if (failed)
        insFailure.run(id, id, org, day, domain, types[i % types.length], `mx${i % 3}.${domain}`, failed);
    }
  });
  for (let i = 0; i < REPORTS; i += 50_000) batch(i, Math.min(REPORTS, i + 50_000));
  db.close();
  const store2 = await openReportStore(dbPath);
  await store2.rebuildRollups();
  await store2.close();
  console.log(
    `\nloaded ${fmt(REPORTS)} reports (50 domains, 5 reporters, 400 days) in ${fmt((performance.now() - t0) / 1000, 1)} s`,
  );
}
writeFileSync(
  join(dir, 'bench50.yaml'),
  `domains:\n${Array.from({ length: 50 }, (_, i) => `  domain${i}.example:\n    mode: testing\n    mx: [mx.domain${i}.example]\n`).join('')}`,
);
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error(o, m) {
    console.error(m, o);
  },
};
const server = await startServe({
  configPath: join(dir, 'bench50.yaml'),
  certsDir: join(dir, 'certs'),
  listen: { host: '127.0.0.1', port: 0 },
  dashboardListen: { host: '127.0.0.1', port: 0 },
  dbUrl: dbPath,
  watch: false,
  logger: quiet,
});
const timePage = async (path, n) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${server.dashboardUrl}${path}`);
    const body = await res.text();
    times.push(performance.now() - t);
    if (res.status !== 200 || body.length < 1000) throw new Error(`${path}: ${res.status}`);
  }
  return times;
};
const overview30 = await timePage('', 11);
const overview365 = await timePage('?days=365', 5);
const failures = await timePage('failures', 5);
await server.stop();
console.log(`dashboard with ${fmt(REPORTS)} reports (medians)`);
console.log(`  overview, 30 days        ${fmt(median(overview30), 1).padStart(8)} ms   (target: < 1000 ms)`);
console.log(`  overview, 365 days       ${fmt(median(overview365), 1).padStart(8)} ms`);
console.log(`  failures page            ${fmt(median(failures), 1).padStart(8)} ms`);
rmSync(dir, { recursive: true, force: true });
