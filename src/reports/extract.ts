// From bytes of unknown kind (JSON, gzip, zip, an e-mail, an mbox) to the report JSON texts
// they carry. Each layer is bounded: decompressed size, zip entries, message size, nesting.
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { simpleParser } from 'mailparser';

export interface ExtractLimits {
  /** Decompressed size of one report (JSON text). */
  maxReportBytes: number;
  /** One e-mail message, one file, one request body before decompression. */
  maxInputBytes: number;
  maxZipEntries: number;
  maxAttachments: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxReportBytes: 20 * 1024 * 1024,
  maxInputBytes: 50 * 1024 * 1024,
  maxZipEntries: 100,
  maxAttachments: 50,
};

export type Extracted =
  | { source: string; json: Buffer }
  | { source: string; status: 'skipped' | 'invalid'; reason: string };

const MB = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

export class ExtractError extends Error {
  constructor(
    readonly status: 'skipped' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function isZip(b: Uint8Array): boolean {
  return (
    b.length >= 4 &&
    b[0] === 0x50 &&
    b[1] === 0x4b &&
    (b[2] === 3 || b[2] === 5) &&
    (b[3] === 4 || b[3] === 6)
  );
}

function firstText(b: Uint8Array, n = 512): string {
  let start = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3;
  return Buffer.from(b.buffer, b.byteOffset + start, Math.min(n, b.length - start)).toString('latin1');
}

function looksLikeJson(b: Uint8Array): boolean {
  return /^\s*[{[]/.test(firstText(b, 64));
}

function looksLikeMbox(b: Uint8Array): boolean {
  return /^From \S/.test(firstText(b, 16));
}

function looksLikeEmail(b: Uint8Array): boolean {
  const head = firstText(b, 2048);
  // A header block: "Name: value" lines (possibly folded) before the first blank line.
  return (
    /^(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*){2,}/.test(head) ||
    /^[!-9;-~]+:.*\r?\n\r?\n/.test(head)
  );
}

function looksLikeXml(b: Uint8Array): boolean {
  return /^\s*<(?:\?xml|feedback)/i.test(firstText(b, 256));
}

/** Gunzip with a hard cap on the output, so a gzip bomb costs at most the cap. */
export function gunzipLimited(b: Uint8Array, max: number): Buffer {
  try {
    return gunzipSync(b, { maxOutputLength: max });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new ExtractError('invalid', `gzip data expands beyond the ${MB(max)} limit`);
    }
    if (e.code === 'Z_BUF_ERROR') throw new ExtractError('invalid', 'gzip data is truncated');
    throw new ExtractError('invalid', `gzip data is corrupt: ${e.message}`);
  }
}

/** What one input may expand to in all, over every archive level (bombs nest, too). */
interface ExpansionBudget {
  left: number;
}

function charge(budget: ExpansionBudget, bytes: number, limits: ExtractLimits): void {
  budget.left -= bytes;
  if (budget.left < 0) {
    throw new ExtractError(
      'invalid',
      `archive expands beyond the ${MB(limits.maxInputBytes * 2)} limit in total`,
    );
  }
}

function unzipLimited(
  b: Uint8Array,
  limits: ExtractLimits,
  budget: ExpansionBudget,
): Array<[string, Uint8Array]> {
  let entries = 0;
  let tooBig: string | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(b, {
      filter: (f) => {
        if (f.name.endsWith('/')) return false;
        if (++entries > limits.maxZipEntries) {
          throw new ExtractError('invalid', `zip archive has more than ${limits.maxZipEntries} entries`);
        }
        // fflate inflates into a buffer of the declared size and never grows it, so this
        // bound holds even when the header lies about the size.
        if (f.originalSize > limits.maxReportBytes) {
          tooBig = f.name;
          return false;
        }
        // Every kept entry is inflated at once: bound their declared sizes together.
        charge(budget, f.originalSize, limits);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ExtractError) throw err;
    throw new ExtractError('invalid', `zip archive is corrupt: ${(err as Error).message}`);
  }
  if (tooBig !== undefined && Object.keys(files).length === 0) {
    throw new ExtractError(
      'invalid',
      `zip entry ${tooBig} expands beyond the ${MB(limits.maxReportBytes)} limit`,
    );
  }
  return Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Every report found in a blob of bytes; `declared` says the sender called it a TLS report. */
export async function extractReports(
  bytes: Uint8Array,
  source: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  depth = 0,
  budget: ExpansionBudget = { left: limits.maxInputBytes * 2 },
): Promise<Extracted[]> {
  try {
    if (bytes.length > limits.maxInputBytes) {
      throw new ExtractError(
        'invalid',
        `input is ${MB(bytes.length)}, above the ${MB(limits.maxInputBytes)} limit`,
      );
    }
    if (depth > 3) throw new ExtractError('invalid', 'archives nested too deeply');
    if (bytes.length === 0) throw new ExtractError('invalid', 'input is empty');
    if (isGzip(bytes)) {
      const inflated = gunzipLimited(bytes, limits.maxReportBytes);
      charge(budget, inflated.length, limits);
      return extractReports(inflated, source, limits, depth + 1, budget);
    }
    if (isZip(bytes)) {
      const entries = unzipLimited(bytes, limits, budget);
      if (entries.length === 0) throw new ExtractError('invalid', 'zip archive is empty');
      const out: Extracted[] = [];
      for (const [name, data] of entries)
        out.push(...(await extractReports(data, `${source}!${name}`, limits, depth + 1, budget)));
      return out;
    }
    if (looksLikeJson(bytes)) {
      if (bytes.length > limits.maxReportBytes) {
        throw new ExtractError(
          'invalid',
          `report is ${MB(bytes.length)}, above the ${MB(limits.maxReportBytes)} limit`,
        );
      }
      return [{ source, json: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) }];
    }
    if (looksLikeXml(bytes))
      throw new ExtractError('skipped', 'an XML document (a DMARC aggregate report?), not a TLS report');
    if (depth === 0 && looksLikeMbox(bytes)) {
      const messages = splitMbox(bytes);
      const out: Extracted[] = [];
      for (const [i, m] of messages.entries())
        out.push(...(await extractFromEmail(m, `${source}#${i + 1}`, limits)));
      return out;
    }
    if (depth === 0 && looksLikeEmail(bytes)) return await extractFromEmail(bytes, source, limits);
    throw new ExtractError('skipped', 'not a TLS report: content is not JSON, gzip, zip or an e-mail');
  } catch (err) {
    if (err instanceof ExtractError) return [{ source, status: err.status, reason: err.message }];
    throw err;
  }
}

/** mbox (mboxo/mboxrd): messages start at lines beginning "From "; ">From " lines are unescaped. */
export function splitMbox(bytes: Uint8Array): Buffer[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const starts: number[] = [];
  const re = /(?:^|\n)From [^\n]*\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + (m[0].startsWith('\n') ? 1 : 0));
  const out: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]!;
    const bodyStart = text.indexOf('\n', from) + 1;
    const end = i + 1 < starts.length ? starts[i + 1]! : text.length;
    const message = text.slice(bodyStart, end).replace(/^>(>*From )/gm, '$1');
    out.push(Buffer.from(message, 'latin1'));
  }
  return out;
}

const TLSRPT_TYPES = new Set(['application/tlsrpt+gzip', 'application/tlsrpt+json']);
const REPORTISH_TYPES = new Set([
  'application/json',
  'application/gzip',
  'application/x-gzip',
  'application/zip',
  'application/x-zip-compressed',
  'application/octet-stream',
]);

/**
 * RFC 8460 §5.3: a multipart/report message (report-type=tlsrpt) with the report as an
 * application/tlsrpt+gzip or +json part. Real senders vary, so any attachment whose
 * content turns out to be a report is taken too; anything else is skipped with the reason.
 */
export async function extractFromEmail(
  bytes: Uint8Array,
  source: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<Extracted[]> {
  if (bytes.length > limits.maxInputBytes) {
    return [
      {
        source,
        status: 'invalid',
        reason: `message is ${MB(bytes.length)}, above the ${MB(limits.maxInputBytes)} limit`,
      },
    ];
  }
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
  } catch (err) {
    return [{ source, status: 'invalid', reason: `e-mail could not be parsed: ${(err as Error).message}` }];
  }
  const ct = mail.headers.get('content-type') as
    | { value?: string; params?: Record<string, string> }
    | undefined;
  const reportType = ct?.params?.['report-type']?.toLowerCase();
  const declared = ct?.value?.toLowerCase() === 'multipart/report' && reportType === 'tlsrpt';
  const attachments = mail.attachments.slice(0, limits.maxAttachments);
  const label = (name: string | undefined, i: number) => `${source}#${name ?? `part${i + 1}`}`;

  const tlsrptParts = attachments.filter((a) => TLSRPT_TYPES.has(a.contentType.toLowerCase()));
  const out: Extracted[] = [];
  if (tlsrptParts.length > 0) {
    for (const [i, a] of tlsrptParts.entries()) {
      const found = await extractReports(a.content, label(a.filename, i), limits, 1);
      out.push(...found);
    }
    return out;
  }
  // No declared report part: look at any attachment that could hold one.
  const seen: string[] = [];
  for (const [i, a] of attachments.entries()) {
    const type = a.contentType.toLowerCase();
    const name = (a.filename ?? '').toLowerCase();
    seen.push(`${type}${a.filename ? ` (${a.filename})` : ''}`);
    if (!REPORTISH_TYPES.has(type) && !/\.(json|gz|zip)$/.test(name)) continue;
    const found = await extractReports(a.content, label(a.filename, i), limits, 1);
    for (const f of found) {
      if ('json' in f) out.push(f);
      else if (declared) out.push(f);
    }
  }
  if (out.length > 0) return out;
  if (
    reportType === 'aggregate' ||
    attachments.some((a) => /\.xml(\.gz)?$|\.zip$/i.test(a.filename ?? '') || /xml/.test(a.contentType))
  ) {
    return [{ source, status: 'skipped', reason: 'a DMARC aggregate report (XML), not a TLS report' }];
  }
  if (declared)
    return [
      {
        source,
        status: 'invalid',
        reason: 'a multipart/report; report-type=tlsrpt message with no report attachment',
      },
    ];
  const subject = mail.subject ? ` "${mail.subject.slice(0, 60)}"` : '';
  return [
    {
      source,
      status: 'skipped',
      reason:
        seen.length === 0
          ? `not a TLS report: e-mail${subject} has no attachment`
          : `not a TLS report: e-mail${subject} has no report attachment (saw ${seen.join(', ')})`,
    },
  ];
}
