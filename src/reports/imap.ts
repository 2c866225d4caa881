// Ingest TLS reports from an IMAP mailbox. Each message is processed once: after its
// reports are stored (or it is found not to be a report) it is moved away or marked \Seen,
// so a cron job never reads it again. A store failure leaves the message untouched.
import { isIP } from 'node:net';
import { ImapFlow } from 'imapflow';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits, extractFromEmail } from './extract.js';
import { countResults, type IngestItemResult, type IngestOutcome, storeExtracted } from './ingest.js';
import type { ReportStore } from './types.js';

export interface ImapTarget {
  secure: boolean;
  host: string;
  port: number;
  user: string;
  mailbox: string;
}

export class ImapUrlError extends Error {
  readonly code = 'EIMAPURL';
}

/** imaps://USER@HOST[:PORT]/MAILBOX (imap:// means STARTTLS on 143, which is then required). */
export function parseImapUrl(raw: string): ImapTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ImapUrlError(`--imap: "${raw}" is not a URL (expected imaps://USER@HOST[:PORT]/MAILBOX)`);
  }
  if (url.protocol !== 'imaps:' && url.protocol !== 'imap:') {
    throw new ImapUrlError(`--imap: scheme must be imaps: or imap:, got ${url.protocol}`);
  }
  if (!url.username) throw new ImapUrlError('--imap: the URL must name the user (imaps://USER@HOST/MAILBOX)');
  if (url.password)
    throw new ImapUrlError(
      '--imap: do not put the password in the URL; use MTA_STS_IMAP_PASSWORD or --password-file',
    );
  const secure = url.protocol === 'imaps:';
  const mailbox = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'INBOX';
  return {
    secure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    user: decodeURIComponent(url.username),
    mailbox,
  };
}

export interface ImapIngestOptions {
  password: string;
  /** Move processed messages here (created if missing); otherwise mark them \Seen. */
  moveTo?: string;
  /** PEM trust anchors for a server with a private CA (tests, internal servers). */
  ca?: string | Buffer;
  limits?: ExtractLimits;
  now?: () => Date;
  onTotal?: (messages: number) => void;
  onInput?: (results: IngestItemResult[]) => void;
}

export async function ingestImap(
  target: ImapTarget,
  store: ReportStore,
  options: ImapIngestOptions,
): Promise<IngestOutcome> {
  const limits = options.limits ?? DEFAULT_EXTRACT_LIMITS;
  const now = options.now ?? (() => new Date());
  const client = new ImapFlow({
    host: target.host,
    port: target.port,
    secure: target.secure,
    doSTARTTLS: target.secure ? undefined : true,
    auth: { user: target.user, pass: options.password },
    tls: {
      ...(options.ca ? { ca: options.ca } : {}),
      // RFC 6066 forbids an IP address as SNI; the certificate is still checked against it.
      ...(isIP(target.host) ? {} : { servername: target.host }),
      minVersion: 'TLSv1.2',
    },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => {});
  await client.connect();
  const items: IngestItemResult[] = [];
  try {
    if (options.moveTo) {
      const boxes = await client.list();
      if (!boxes.some((b) => b.path === options.moveTo)) await client.mailboxCreate(options.moveTo);
    }
    const lock = await client.getMailboxLock(target.mailbox);
    try {
      // With --move-to, everything still in the mailbox is unprocessed; otherwise unseen mail is.
      const found = await client.search(options.moveTo ? { all: true } : { seen: false }, { uid: true });
      const uids = (found || []).sort((a, b) => a - b);
      options.onTotal?.(uids.length);
      const sizes = new Map<number, number>();
      if (uids.length > 0) {
        for await (const m of client.fetch(uids.join(','), { uid: true, size: true }, { uid: true })) {
          sizes.set(m.uid, m.size ?? 0);
        }
      }
      for (const uid of uids) {
        const source = `imap:${target.host}/${target.mailbox}/${uid}`;
        let results: IngestItemResult[];
        const size = sizes.get(uid) ?? 0;
        if (size > limits.maxInputBytes) {
          results = [{ source, status: 'invalid', reason: `message is ${size} bytes, above the size limit` }];
        } else {
          const msg = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
          if (!msg || !msg.source) {
            results = [{ source, status: 'invalid', reason: 'message vanished before it could be read' }];
          } else {
            const extracted = await extractFromEmail(msg.source, source, limits);
            results = [];
            // A store error (database down) throws here, before the message is marked.
            for (const e of extracted) results.push(await storeExtracted(e, store, now()));
          }
        }
        if (options.moveTo) await client.messageMove(String(uid), options.moveTo, { uid: true });
        else await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        items.push(...results);
        options.onInput?.(results);
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return { items, counts: countResults(items) };
}
