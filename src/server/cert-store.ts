// Certificates for the policy host, one PEM pair per host in a directory (<host>.pem with the
// chain, <host>.key), loaded into TLS contexts and chosen by SNI. A reload never makes things
// worse: a pair that does not parse, or whose key does not fit, keeps the one loaded before.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../ports.js';
import { type CertificateCandidate, chooseCertificate, isSafeHostFileName } from './sni.js';

export interface LoadedCertificate extends CertificateCandidate {
  certFile: string;
  keyFile: string;
  context: tls.SecureContext;
  /** The certificate PEM text as read, to notice changes cheaply. */
  certPem: string;
  keyPem: string;
  fingerprint: string;
}

export interface ReloadResult {
  loaded: string[];
  unchanged: string[];
  kept: Array<{ host: string; reason: string }>;
  failed: Array<{ host: string; reason: string }>;
  removed: string[];
}

export const TLS_MIN_VERSION = 'TLSv1.2' as const;

/** Parse and check one pair; throws an Error saying what is wrong. */
export function buildCertificate(
  host: string,
  certPem: string,
  keyPem: string,
): Omit<LoadedCertificate, 'certFile' | 'keyFile'> {
  if (!certPem.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error('no PEM certificate in the .pem file');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`certificate does not parse: ${(err as Error).message}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`private key does not parse: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ cert: certPem, key: keyPem, minVersion: TLS_MIN_VERSION });
  } catch (err) {
    throw new Error(`TLS rejects the pair: ${(err as Error).message}`);
  }
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return {
    host,
    dnsNames,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    context,
    certPem,
    keyPem,
    fingerprint: leaf.fingerprint256,
  };
}

export class CertificateStore {
  private certs = new Map<string, LoadedCertificate>();
  /** Contexts made on the fly (e.g. ACME TLS-ALPN-01) are not part of the directory. */
  constructor(
    readonly dir: string | undefined,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(): LoadedCertificate[] {
    return [...this.certs.values()];
  }

  get(host: string): LoadedCertificate | undefined {
    return this.certs.get(host.toLowerCase());
  }

  /** The TLS context for an SNI name, or undefined (the handshake then fails with an alert). */
  contextFor(servername: string): tls.SecureContext | undefined {
    return chooseCertificate(servername, this.certs.values(), this.now())?.context;
  }

  /** Read the directory again; every change is logged, nothing good is dropped for something bad. */
  async reload(): Promise<ReloadResult> {
    const result: ReloadResult = { loaded: [], unchanged: [], kept: [], failed: [], removed: [] };
    if (!this.dir) return result;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      this.logger.error(
        { dir: this.dir, err: (err as Error).message },
        'cannot read the certificate directory; keeping what is loaded',
      );
      for (const host of this.certs.keys()) result.kept.push({ host, reason: 'directory unreadable' });
      return result;
    }
    const hosts = names
      .filter((n) => n.endsWith('.pem'))
      .map((n) => n.slice(0, -4).toLowerCase())
      .filter((h) => isSafeHostFileName(h));
    const next = new Map<string, LoadedCertificate>();
    for (const host of hosts) {
      const certFile = join(this.dir, `${host}.pem`);
      const keyFile = join(this.dir, `${host}.key`);
      const old = this.certs.get(host);
      try {
        const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
        if (old && old.certPem === certPem && old.keyPem === keyPem) {
          next.set(host, old);
          result.unchanged.push(host);
          continue;
        }
        const built = buildCertificate(host, certPem, keyPem);
        next.set(host, { ...built, certFile, keyFile });
        result.loaded.push(host);
        this.logger.info(
          {
            host,
            dnsNames: built.dnsNames,
            notAfter: built.notAfter.toISOString(),
            fingerprint: built.fingerprint,
          },
          old ? 'certificate replaced' : 'certificate loaded',
        );
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const reason = e.code === 'ENOENT' ? `missing ${e.path ?? 'file'}` : e.message;
        if (old) {
          next.set(host, old);
          result.kept.push({ host, reason });
          this.logger.error(
            { host, file: certFile, reason },
            'new certificate rejected; still serving the previous one',
          );
        } else {
          result.failed.push({ host, reason });
          this.logger.error({ host, file: certFile, reason }, 'certificate not loaded');
        }
      }
    }
    for (const host of this.certs.keys()) {
      if (!next.has(host)) {
        result.removed.push(host);
        this.logger.info({ host }, 'certificate removed');
      }
    }
    this.certs = next;
    return result;
  }

  /** Store a new pair on disk (atomically: write then rename) and serve it at once. */
  async install(host: string, certPem: string, keyPem: string): Promise<LoadedCertificate> {
    if (!this.dir) throw new Error('no certificate directory to store certificates in');
    if (!isSafeHostFileName(host)) throw new Error(`not a host name: ${host}`);
    const built = buildCertificate(host, certPem, keyPem);
    await mkdir(this.dir, { recursive: true });
    const certFile = join(this.dir, `${host}.pem`);
    const keyFile = join(this.dir, `${host}.key`);
    await writeFile(`${keyFile}.tmp`, keyPem, { mode: 0o600 });
    await writeFile(`${certFile}.tmp`, certPem, { mode: 0o644 });
    await rename(`${keyFile}.tmp`, keyFile);
    await rename(`${certFile}.tmp`, certFile);
    const loaded = { ...built, certFile, keyFile };
    this.certs.set(host.toLowerCase(), loaded);
    return loaded;
  }
}
