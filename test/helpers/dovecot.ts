// A throw-away Dovecot IMAPS server for tests: its own config, passwd-file user, Maildir and
// self-signed certificate in a temp dir, listening on 127.0.0.1 only. The machine's own
// Dovecot configuration is never read or changed.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres.js';

const run = promisify(execFile);

export interface TestDovecot {
  host: string;
  port: number;
  user: string;
  password: string;
  /** PEM of the server's self-signed certificate (trust it as the CA). */
  caPem: string;
  caFile: string;
  stop(): Promise<void>;
}

const DOVECOT = '/usr/sbin/dovecot';

export function dovecotUnavailable(): string | undefined {
  if (!existsSync(DOVECOT)) return 'Dovecot is not installed (apt-get install dovecot-imapd)';
  if (!existsSync('/usr/lib/dovecot/imap'))
    return 'Dovecot IMAP is not installed (apt-get install dovecot-imapd)';
  return undefined;
}

export async function startDovecot(): Promise<TestDovecot> {
  const why = dovecotUnavailable();
  if (why) throw new Error(why);
  const dir = await mkdtemp(join(tmpdir(), 'mta-sts-dovecot-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const user = 'tlsrpt';
  const password = 'test-password-123';
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const home = join(dir, 'home');
  await mkdir(join(home, user), { recursive: true });
  // The mail user: ourselves when not root; as root, an unprivileged system account.
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? 65534 : process.getuid!();
  const gid = asRoot ? 65534 : process.getgid!();
  if (asRoot) {
    await chown(home, uid, gid);
    await chown(join(home, user), uid, gid);
  }
  await writeFile(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${uid}:${gid}::${join(home, user)}\n`);
  const config = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <${cert}
ssl_key = <${key}
${existsSync('/usr/share/dovecot/dh.pem') ? 'ssl_dh = </usr/share/dovecot/dh.pem' : ''}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${home}/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${port}
    ssl = yes
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
${asRoot ? '' : `default_login_user = ${process.env.USER ?? 'nobody'}\ndefault_internal_user = ${process.env.USER ?? 'nobody'}`}
`;
  const conf = join(dir, 'dovecot.conf');
  await writeFile(conf, config);
  // Without -F the master binds its listeners before it daemonizes: when this returns, the port is open.
  try {
    // The daemon keeps inherited pipes open, so wait for the launcher's exit, not for EOF.
    await new Promise<void>((resolve, reject) => {
      const child = spawn(DOVECOT, ['-c', conf], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit code ${code}`))));
    });
  } catch (err) {
    const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
    throw new Error(`dovecot did not start: ${(err as Error).message}\n${log}`);
  }
  const caPem = await readFile(cert, 'utf8');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    caPem,
    caFile: cert,
    async stop() {
      await new Promise<void>((resolve) => {
        const child = spawn(DOVECOT, ['-c', conf, 'stop'], { stdio: 'ignore' });
        child.once('error', () => resolve());
        child.once('exit', () => resolve());
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
