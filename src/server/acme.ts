// Certificates from an ACME CA (RFC 8555) for every policy host, by HTTP-01 on the plain-HTTP
// listener. Obtained certificates go into the certificate directory (so a restart does not ask
// again) and are served at once; they are renewed when renewalDue says so.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import acme from 'acme-client';
import type { Logger } from '../ports.js';
import type { CertificateStore } from './cert-store.js';
import { renewalDue } from './renewal.js';

export interface AcmeOptions {
  directoryUrl: string;
  email: string;
  certs: CertificateStore;
  /** Where the account key lives (created on first use). */
  accountKeyFile: string;
  logger: Logger;
  /** Extra trust anchors for the ACME server's own HTTPS (e.g. Pebble's test CA). */
  caPem?: string;
  /** Ask our own HTTP listener for the challenge before telling the CA (default true). */
  selfCheck?: boolean;
  now?: () => Date;
}

export interface AcmeOutcome {
  host: string;
  result: 'obtained' | 'renewed' | 'valid' | 'failed';
  detail?: string;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;

export class AcmeManager {
  private readonly challenges = new Map<string, string>();
  private client: acme.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<AcmeOutcome[]> | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: AcmeOptions) {
    this.now = options.now ?? (() => new Date());
    if (options.caPem) {
      // acme-client talks through its own axios instance; trust the CA's test root there only.
      acme.axios.defaults.httpsAgent = new https.Agent({ ca: options.caPem, keepAlive: false });
    }
  }

  /** The key authorization for an HTTP-01 token (RFC 8555 §8.3), for the port-80 listener. */
  httpChallenge(token: string): string | undefined {
    if (!TOKEN_RE.test(token)) return undefined;
    return this.challenges.get(token);
  }

  private async accountClient(): Promise<acme.Client> {
    if (this.client) return this.client;
    let key: string;
    try {
      key = await readFile(this.options.accountKeyFile, 'utf8');
    } catch {
      key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
      await mkdir(join(this.options.accountKeyFile, '..'), { recursive: true });
      await writeFile(this.options.accountKeyFile, key, { mode: 0o600 });
      this.options.logger.info({ file: this.options.accountKeyFile }, 'ACME account key created');
    }
    this.client = new acme.Client({ directoryUrl: this.options.directoryUrl, accountKey: key });
    return this.client;
  }

  /** Make sure each host has a certificate that is not due for renewal; one host at a time. */
  ensure(hosts: readonly string[]): Promise<AcmeOutcome[]> {
    if (this.running) return this.running;
    this.running = (async () => {
      const out: AcmeOutcome[] = [];
      try {
        for (const host of hosts) out.push(await this.ensureOne(host));
      } finally {
        this.running = undefined;
      }
      return out;
    })();
    return this.running;
  }

  private async ensureOne(host: string): Promise<AcmeOutcome> {
    const log = this.options.logger;
    const existing = this.options.certs.get(host);
    if (existing) {
      const d = renewalDue(existing.notBefore, existing.notAfter, this.now());
      if (!d.due) return { host, result: 'valid', detail: `renewal due ${d.dueAt}` };
      log.info({ host, reason: d.reason }, 'certificate renewal due');
    }
    try {
      const client = await this.accountClient();
      const [keyPem, csr] = await acme.crypto.createCsr(
        { commonName: host, altNames: [host] },
        await acme.crypto.createPrivateEcdsaKey('P-256'),
      );
      const chain = await client.auto({
        csr,
        email: this.options.email,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        skipChallengeVerification: this.options.selfCheck === false,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
          this.challenges.set(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.challenges.delete(challenge.token);
        },
      });
      const installed = await this.options.certs.install(host, chain, keyPem.toString());
      log.info(
        { host, notAfter: installed.notAfter.toISOString() },
        existing ? 'certificate renewed' : 'certificate obtained',
      );
      return { host, result: existing ? 'renewed' : 'obtained' };
    } catch (err) {
      const detail = (err as Error).message ?? String(err);
      log.error(
        { host, err: detail },
        existing ? 'certificate renewal failed; serving the current one' : 'certificate request failed',
      );
      return { host, result: 'failed', detail };
    }
  }

  /** Check every intervalMs (renewal decisions are cheap; only due hosts talk to the CA). */
  schedule(hosts: () => string[], intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.ensure(hosts()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
