// A throw-away nginx (Debian package `nginx`) for tests: own prefix, config, pid file and logs
// in a temp dir, `daemon off` as a child process, HTTPS on 127.0.0.1 at a free port.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';

export function nginxAvailable(): boolean {
  return existsSync(NGINX_BIN);
}

export interface NginxOptions {
  /** Document root served as is. */
  root: string;
  certPem: string;
  keyPem: string;
  serverName: string;
}

export interface NginxInstance {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** nginx cannot listen on port 0: bind 0, note the port, release it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function config(dir: string, port: number, options: NginxOptions): string {
  // Workers need to read the temp dir; as root, simply keep them root.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  types { text/plain txt; text/html html; }
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${options.serverName};
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${options.root};
    location = /.well-known/mta-sts.txt { default_type text/plain; }
  }
}
`;
}

export async function startNginx(options: NginxOptions): Promise<NginxInstance> {
  if (!nginxAvailable()) throw new Error(`${NGINX_BIN} not found: apt-get install nginx`);
  const dir = await mkdtemp(join(tmpdir(), 'mta-sts-nginx-'));
  await mkdir(join(dir, 'tmp'));
  await writeFile(join(dir, 'cert.pem'), options.certPem);
  await writeFile(join(dir, 'key.pem'), options.keyPem, { mode: 0o600 });
  let lastError: Error | undefined;
  // The freed port may be taken before nginx binds it: try a few ports.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    await writeFile(join(dir, 'nginx.conf'), config(dir, port, options));
    const child: ChildProcess = spawn(
      NGINX_BIN,
      ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    const started = Date.now();
    while (exitCode === undefined && Date.now() - started < 10_000) {
      if (await canConnect(port)) {
        return {
          port,
          dir,
          async stop() {
            if (exitCode === undefined) {
              child.kill('SIGTERM');
              const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
              await exited;
              clearTimeout(killer);
            }
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (exitCode === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    lastError = new Error(`nginx did not start on port ${port}: ${stderr}${log}`.trim());
    if (!/Address already in use/.test(stderr + log)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('nginx did not start');
}
