// Test helpers for the resolver: a socketmap client (what Postfix speaks) and a throw-away
// Postfix instance inside a network namespace of its own (see startPostfixInNamespace).
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { encodeNetstring, NetstringDecoder } from '../../src/core/socketmap.js';

export type SocketmapTarget = { host: string; port: number } | { path: string };

/**
 * Send requests pipelined on one connection, written in pieces of `chunk` bytes (each piece
 * its own write), and collect one reply per request.
 */
export async function socketmapExchange(
  target: SocketmapTarget,
  requests: string[],
  chunk = 4096,
): Promise<string[]> {
  const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
  socket.setNoDelay(true);
  const decoder = new NetstringDecoder(1_000_000);
  const replies: string[] = [];
  const done = new Promise<string[]>((resolve, reject) => {
    socket.on('data', (d) => {
      for (const r of decoder.push(d)) replies.push(r.toString('utf8'));
      if (replies.length === requests.length) {
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${replies.length} replies`)));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const wire = Buffer.from(requests.map(encodeNetstring).join(''));
  for (let i = 0; i < wire.length; i += chunk) {
    const ok = socket.write(wire.subarray(i, i + chunk));
    if (!ok) await new Promise((r) => socket.once('drain', r));
    if (chunk < 64) await new Promise((r) => setImmediate(r));
  }
  return done;
}

/** True when a program is on PATH. */
export function haveProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a test needing Debian programs runs: it runs when they are there, fails in CI when
 * they are not (so a broken CI image cannot pass silently), and is skipped locally.
 */
export function requirePrograms(names: string[]): boolean {
  const missing = names.filter((n) => !haveProgram(n));
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`missing programs (Debian packages needed): ${missing.join(', ')}`);
  return false;
}

// ---------------------------------------------------------------------------------------------
// A throw-away Postfix sending through our resolver, inside a network namespace.
//
// runPostfixWorld() (called from a test) writes the spec to a temp file and runs this module
// as a script under `unshare --net --mount`: a fresh loopback, and /etc/resolv.conf bound (in
// that mount namespace only) to a file naming 127.0.0.1, where the simulator's DNS listens on
// port 53. The simulated MX hosts are reached on their own addresses at port 25 through small
// TCP forwarders. Nothing outside the namespace changes: no system mail or DNS settings.

import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PostfixWorldSpec {
  scenario: unknown;
  /** One message is sent to each recipient. */
  recipients: string[];
  /** Keys looked up with `postmap -q KEY socketmap:inet:127.0.0.1:PORT:postfix`. */
  postmapKeys: string[];
  /** Extra resolver configuration (zones, default_zone…). */
  resolverConfig?: Record<string, unknown>;
}

export interface PostfixWorldResult {
  /** Per recipient: Postfix's delivery status (sent, deferred, bounced) or 'none'. */
  status: Record<string, string>;
  /** Per postmap key: what postmap printed (undefined: not found). */
  postmap: Record<string, string | null>;
  /** Messages the simulated MX hosts accepted. */
  delivered: number;
  log: string[];
  error?: string;
}

const MARK = '@@postfix-world@@';
const HELPER = fileURLToPath(import.meta.url);

export async function runPostfixWorld(
  spec: PostfixWorldSpec,
  timeoutMs = 120_000,
): Promise<PostfixWorldResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pfworld-'));
  try {
    const specFile = join(dir, 'spec.json');
    const resolv = join(dir, 'resolv.conf');
    await writeFile(specFile, JSON.stringify(spec));
    await writeFile(resolv, 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n');
    const script = `ip link set lo up && mount --bind ${resolv} /etc/resolv.conf && exec "${process.execPath}" --import tsx "${HELPER}" --postfix-world "${specFile}"`;
    const child = spawn('unshare', ['--net', '--mount', '--fork', '--kill-child', '--', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    // The whole process group: the namespace's node, Postfix's master and its children.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const line = out.split('\n').find((l) => l.startsWith(MARK));
    if (!line)
      throw new Error(`postfix world failed (exit ${code}):\n${err.slice(-4000)}\n${out.slice(-2000)}`);
    return JSON.parse(line.slice(MARK.length)) as PostfixWorldResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => {
      stdout += d;
    });
    c.stderr.on('data', (d) => {
      stderr += d;
    });
    c.on('error', (e) => resolve({ code: -1, stdout, stderr: e.message }));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const MASTER_CF = `
2525      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
scache    unix  -       -       n       -       1       scache
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
`;

async function postfixWorldMain(specFile: string): Promise<void> {
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as PostfixWorldSpec;
  const step = (what: string) => process.stderr.write(`postfix-world: ${what}\n`);
  const { startSimulation } = await import('../../src/sim/simulation.js');
  const { startResolverDaemon } = await import('../../src/resolver/daemon.js');
  const { readResolverConfig } = await import('../../src/resolver/config.js');
  const { formatConnectTo } = await import('../../src/node/connect-to.js');
  const nodemailer = (await import('nodemailer')).default;
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const result: PostfixWorldResult = { status: {}, postmap: {}, delivered: 0, log: [] };
  const cleanups: (() => Promise<unknown>)[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'pfconf-'));
  await chmod(dir, 0o755);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  try {
    step('sim');
    const sim = await startSimulation(spec.scenario as never, { dnsPort: 53 });
    cleanups.push(() => sim.stop());
    // MX hosts: their DNS addresses, port 25, forwarded to where the simulator listens.
    for (const h of sim.hosts.filter((x) => x.kind === 'smtp')) {
      for (const address of h.addresses) {
        const fwd = net.createServer((c) => {
          const up = net.connect(h.listen.port, h.listen.address);
          c.pipe(up).pipe(c);
          c.on('error', () => up.destroy());
          up.on('error', () => c.destroy());
        });
        await new Promise<void>((r) => fwd.listen(25, address, r));
        cleanups.push(() => new Promise((r) => fwd.close(r)));
      }
    }
    step('forwarders up');
    const policyRoutes = sim.connectTo.filter((c) => c.port === 443).map(formatConnectTo);
    const { config } = readResolverConfig({
      host: '127.0.0.1',
      port: 0,
      resolver: ['127.0.0.1:53'],
      ca_file: sim.caFile,
      connect_to: policyRoutes,
      cache: { type: 'internal' },
      ...spec.resolverConfig,
    });
    const daemon = await startResolverDaemon(config, { logger: quiet });
    cleanups.push(() => daemon.close());
    const port = daemon.server.port!;

    step('daemon up');
    const conf = join(dir, 'etc');
    const { mkdir, chown } = await import('node:fs/promises');
    // Postfix insists on its default configuration directory (/etc/postfix/main.cf must exist
    // even for -c), so our configuration is mounted over /etc/postfix in this mount namespace.
    await run('cp', ['-a', '/etc/postfix', conf]);
    await mkdir(join(dir, 'queue'));
    await mkdir(join(dir, 'data'));
    const { execFileSync } = await import('node:child_process');
    const uid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
    await chown(join(dir, 'data'), uid, gid);
    const maillog = join(dir, 'maillog');
    await writeFile(
      join(conf, 'main.cf'),
      [
        'compatibility_level = 3.6',
        `queue_directory = ${join(dir, 'queue')}`,
        `data_directory = ${join(dir, 'data')}`,
        'mail_owner = postfix',
        'setgid_group = postdrop',
        'inet_interfaces = 127.0.0.1',
        'inet_protocols = ipv4',
        'myhostname = sender.localtest',
        'mydomain = localtest',
        'mydestination =',
        'mynetworks = 127.0.0.0/8',
        'smtpd_relay_restrictions = permit_mynetworks, reject',
        'alias_maps =',
        'alias_database =',
        `maillog_file = ${maillog}`,
        `maillog_file_prefixes = ${dir}`,
        'smtp_tls_security_level = may',
        `smtp_tls_policy_maps = socketmap:inet:127.0.0.1:${port}:postfix`,
        `smtp_tls_CAfile = ${sim.caFile}`,
        'smtp_tls_loglevel = 1',
        'smtp_connect_timeout = 5s',
        'smtp_address_preference = ipv4',
        'maximal_queue_lifetime = 1h',
        'bounce_queue_lifetime = 1h',
        '',
      ].join('\n'),
    );
    await writeFile(join(conf, 'master.cf'), MASTER_CF);
    const bind = await run('mount', ['--bind', conf, '/etc/postfix']);
    if (bind.code !== 0) throw new Error(`mount --bind: ${bind.stderr}`);
    step('starting postfix');
    const start = await run('postfix', ['start']);
    if (start.code !== 0) {
      const log = await readFile(maillog, 'utf8').catch(() => '');
      throw new Error(`postfix start: ${start.stderr}${start.stdout}${log}`);
    }
    cleanups.push(() => run('postfix', ['stop']));

    step('postfix started');
    for (const key of spec.postmapKeys) {
      const r = await run('postmap', ['-q', key, `socketmap:inet:127.0.0.1:${port}:postfix`]);
      result.postmap[key] = r.code === 0 ? r.stdout.trim() : null;
    }

    step('postmap done');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: 2525,
      secure: false,
      ignoreTLS: true,
    });
    for (const rcpt of spec.recipients) {
      await transport.sendMail({
        from: 'tester@sender.localtest',
        to: rcpt,
        subject: `to ${rcpt}`,
        text: 'hello\n',
      });
    }
    transport.close();

    step('mail sent');
    // Wait (bounded) until Postfix has logged a delivery status for every recipient.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = await readFile(maillog, 'utf8').catch(() => '');
      result.log = text.split('\n').filter(Boolean);
      for (const rcpt of spec.recipients) {
        const m = result.log
          .filter((l) => l.includes(`to=<${rcpt}>`))
          .map((l) => /status=(\w+)/.exec(l)?.[1]);
        result.status[rcpt] = m.find((s) => s === 'sent') ?? m.find(Boolean) ?? 'none';
      }
      if (spec.recipients.every((r) => result.status[r] !== 'none') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    result.delivered = sim.messages();
  } catch (err) {
    result.error = (err as Error).stack ?? String(err);
  }
  process.stdout.write(`${MARK}${JSON.stringify(result)}\n`);
  // Postfix first (it holds connections to the others); each step bounded, then exit anyway.
  for (const c of cleanups.reverse()) {
    await Promise.race([c().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
  }
  process.exit(0);
}

if (process.argv[2] === '--postfix-world' && process.argv[3]) {
  await postfixWorldMain(process.argv[3]);
}
