#!/usr/bin/env node
// bench/check-latency: how close `mta-sts check` comes to the critical path.
// The simulator (a separate process) adds a fixed delay to every DNS answer and every TCP accept.
// For a domain with 3 MX hosts of 2 addresses each, the longest chain of dependent delayed steps
// is MX lookup -> address lookup -> SMTP accept (3 delays); everything else (TXT lookups, the
// policy host's lookup and accept, the other MX hosts and addresses) can run alongside. The
// critical path is 3 x delay plus the same check's time with no delay at all (local work,
// TLS handshakes and SMTP dialogue on loopback), measured in the same run.
// Usage: npm run bench -- check-latency [--delay MS] [--runs N]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const DELAY = arg('--delay', 200);
const RUNS = arg('--runs', 5);
const DEPENDENT_DELAYS = 3;

const { checkDomains } = await import(join(root, 'dist/check/run.js'));

function scenarioYaml(delayMs) {
  return `delayMs: ${delayMs}
domains:
  - name: bench.test
    mx:
      - { host: mx1.bench.test, priority: 10, addresses: 2 }
      - { host: mx2.bench.test, priority: 20, addresses: 2 }
      - { host: mx3.bench.test, priority: 30, addresses: 2 }
    stsRecord: { id: bench1 }
    policy: { mode: enforce, maxAge: 604800 }
    tlsrpt: { rua: "mailto:tlsrpt@reports.test" }
`;
}

async function startSim(delayMs) {
  const dir = mkdtempSync(join(tmpdir(), 'mta-sts-bench-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, scenarioYaml(delayMs));
  const child = spawn(process.execPath, [join(root, 'dist/cli/bin.js'), 'sim', file, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const info = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      try {
        resolve(JSON.parse(out));
      } catch {}
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { info, stop: () => child.kill('SIGTERM') };
}

function flagsToOptions(flags) {
  const o = { resolvers: [], connectTo: [], noSystemCa: true, timeoutSeconds: 30 };
  for (let i = 0; i < flags.length; i += 2) {
    if (flags[i] === '--resolver') o.resolvers.push(flags[i + 1]);
    else if (flags[i] === '--ca-file') o.caFile = flags[i + 1];
    else if (flags[i] === '--connect-to') o.connectTo.push(flags[i + 1]);
  }
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(delayMs) {
  const sim = await startSim(delayMs);
  try {
    const opts = flagsToOptions(sim.info.checkFlags);
    const times = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      const [r] = await checkDomains(['bench.test'], opts);
      const t = performance.now() - t0;
      if (r.verdict !== 'ok')
        throw new Error(`unexpected verdict ${r.verdict}: ${r.findings.map((f) => f.message).join('; ')}`);
      if (r.mx.flatMap((m) => m.smtp).length !== 6) throw new Error('expected 6 SMTP probes');
      if (i > 0) times.push(t); // the first run warms up
    }
    return times;
  } finally {
    sim.stop();
  }
}

const base = await measure(0);
const delayed = await measure(DELAY);
const baseMs = median(base);
const wallMs = median(delayed);
const criticalMs = DEPENDENT_DELAYS * DELAY + baseMs;
const peakMb = process.resourceUsage().maxRSS / 1024;
const row = (a, b, c) => `${a.padEnd(44)}${String(b).padStart(12)}${String(c).padStart(12)}`;
console.log(
  `check-latency: 1 domain, 3 MX x 2 addresses, ${DELAY} ms added to every DNS answer and TCP accept; median of ${RUNS} runs`,
);
console.log(row('', 'ms', ''));
console.log(row('check wall time (delay on)', wallMs.toFixed(0), ''));
console.log(row('no-delay check (local work, same run)', baseMs.toFixed(0), ''));
console.log(
  row(`critical path (${DEPENDENT_DELAYS} x ${DELAY} ms + no-delay time)`, criticalMs.toFixed(0), ''),
);
console.log(row('ratio wall / critical path (target <= 1.3)', (wallMs / criticalMs).toFixed(2), ''));
// 4 TXT lookups, MX, policy host A + AAAA + accept, 3 x (A + AAAA), 6 SMTP accepts.
console.log(row('the same steps one after another (20 delays)', String(20 * DELAY), ''));
console.log(row('peak RSS of the checking process', peakMb.toFixed(0), 'MiB'));
console.log(
  `runs (ms): delayed ${delayed.map((t) => t.toFixed(0)).join(' ')}; no delay ${base.map((t) => t.toFixed(0)).join(' ')}`,
);
