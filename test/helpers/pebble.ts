// A throw-away Pebble (Debian package `pebble`, Let's Encrypt's test ACME server) for tests:
// own config in a temp dir, its HTTPS API on a certificate from a CA made here (Debian ships no
// test certificate), HTTP-01 validation against a port the test chooses, DNS from a server the
// test names. Real validation: PEBBLE_VA_ALWAYS_VALID is never set.
import { type ChildProcess, spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export const PEBBLE_BIN = '/usr/bin/pebble';

export function pebbleAvailable(): boolean {
  return existsSync(PEBBLE_BIN);
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function pem(der: ArrayBuffer, label: string): string {
  const b64 =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${b64.join('\n')}\n-----END ${label}-----\n`;
}

/** A CA and a certificate for 127.0.0.1 / localhost, for Pebble's own HTTPS listeners. */
async function apiCertificate(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const now = Date.now();
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=pebble API test CA',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    signingAlgorithm: alg,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    ],
  });
  return {
    caPem: ca.toString('pem'),
    certPem: leaf.toString('pem'),
    keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}

export interface PebbleInstance {
  directoryUrl: string;
  /** Trust anchor for Pebble's own HTTPS API (pass to the ACME client). */
  apiCaPem: string;
  apiCaFile: string;
  /** The root that signs issued certificates (management API /roots/0). */
  issuingRoot(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

export async function startPebble(options: { httpPort: number; dnsServer: string }): Promise<PebbleInstance> {
  if (!pebbleAvailable()) throw new Error(`${PEBBLE_BIN} not found: apt-get install pebble`);
  const dir = await mkdtemp(join(tmpdir(), 'mta-sts-pebble-'));
  const api = await apiCertificate();
  await writeFile(join(dir, 'cert.pem'), api.certPem);
  await writeFile(join(dir, 'key.pem'), api.keyPem, { mode: 0o600 });
  const apiCaFile = join(dir, 'api-ca.pem');
  await writeFile(apiCaFile, api.caPem);
  const listenPort = await freePort();
  const mgmtPort = await freePort();
  const tlsPort = await freePort();
  await writeFile(
    join(dir, 'pebble-config.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listenPort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: options.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child: ChildProcess = spawn(
    PEBBLE_BIN,
    ['-config', join(dir, 'pebble-config.json'), '-dnsserver', options.dnsServer],
    {
      cwd: dir,
      // No random sleeps before validation, no random nonce rejections: deterministic tests.
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (/Listening on|ACME directory available/.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`pebble exited (${code}) before it was ready:\n${output}`)));
  });
  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: mgmtPort, path, ca: api.caPem, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            body += d;
          });
          res.on('end', () =>
            res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode}`)),
          );
        })
        .on('error', reject);
    });
  return {
    directoryUrl: `https://127.0.0.1:${listenPort}/dir`,
    apiCaPem: api.caPem,
    apiCaFile,
    issuingRoot: () => get('/roots/0'),
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
