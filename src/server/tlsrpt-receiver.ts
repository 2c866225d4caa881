// The HTTPS rua endpoint (RFC 8460 §5.4) as a fetch-style handler: Request in, Response out.
// It answers 201 only once the report is committed, so a sender that sees 201 may forget it.
import { parseFailureReason, parseTlsrptReport } from '../core/tlsrpt-report.js';
import { DEFAULT_EXTRACT_LIMITS, ExtractError, gunzipLimited } from '../reports/extract.js';
import type { ReportStore } from '../reports/types.js';

export interface TlsrptReceiverOptions {
  store: ReportStore;
  /** Request body cap, before decompression (default 5 MiB). */
  maxBytes?: number;
  /** Decompressed report cap (default 20 MiB). */
  maxReportBytes?: number;
  now?: () => Date;
  /** Called after each request with what happened (for logs and metrics). */
  onResult?: (r: {
    status: number;
    outcome: string;
    reportId?: string;
    organization?: string;
    reason?: string;
  }) => void;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  });
}

async function readBody(req: Request, max: number): Promise<Uint8Array | 'too-large'> {
  const declared = req.headers.get('content-length');
  if (declared && /^\d+$/.test(declared) && Number(declared) > max) return 'too-large';
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return 'too-large';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function createTlsrptReceiver(options: TlsrptReceiverOptions): (req: Request) => Promise<Response> {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const maxReportBytes = options.maxReportBytes ?? DEFAULT_EXTRACT_LIMITS.maxReportBytes;
  const now = options.now ?? (() => new Date());
  const done = (
    res: Response,
    outcome: string,
    extra: { reportId?: string; organization?: string; reason?: string } = {},
  ): Response => {
    options.onResult?.({ status: res.status, outcome, ...extra });
    return res;
  };

  return async (req: Request): Promise<Response> => {
    if (req.method !== 'POST') {
      return done(text(405, 'method not allowed: POST a TLS report', { allow: 'POST' }), 'method');
    }
    // RFC 8460 §5.4: the media type says whether the body is gzipped; parameters are ignored.
    const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/tlsrpt+gzip' && type !== 'application/tlsrpt+json') {
      return done(
        text(415, `unsupported media type "${type}": use application/tlsrpt+gzip or application/tlsrpt+json`),
        'media-type',
      );
    }
    const body = await readBody(req, maxBytes);
    if (body === 'too-large')
      return done(text(413, `report body larger than ${maxBytes} bytes`), 'too-large');
    if (body.length === 0) return done(text(400, 'empty body'), 'invalid', { reason: 'empty body' });
    let json: Uint8Array = body;
    if (type === 'application/tlsrpt+gzip') {
      try {
        json = gunzipLimited(body, maxReportBytes);
      } catch (err) {
        const reason = err instanceof ExtractError ? err.message : String(err);
        if (/limit/.test(reason)) return done(text(413, reason), 'too-large', { reason });
        return done(text(400, reason), 'invalid', { reason });
      }
    }
    const parsed = parseTlsrptReport(json, undefined);
    if (!parsed.ok) {
      const reason = parseFailureReason(parsed.findings);
      const tooLarge = parsed.findings.some((f) => f.code === 'tlsrpt-report.too-large');
      return done(text(tooLarge ? 413 : 400, `not a valid TLS report: ${reason}`), 'invalid', { reason });
    }
    const report = parsed.value;
    let stored: Awaited<ReturnType<ReportStore['storeReport']>>;
    try {
      stored = await options.store.storeReport(report, {
        source: 'https',
        receivedAt: now(),
        rawJson: Buffer.from(json)
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
        notes: parsed.findings,
      });
    } catch {
      // Not committed: a 5xx tells the sender to retry later.
      return done(text(503, 'report could not be stored; try again later'), 'error');
    }
    const extra = { reportId: report.reportId, organization: report.organization };
    if (stored.status === 'duplicate')
      return done(text(200, `duplicate of report ${stored.id}`), 'duplicate', extra);
    return done(text(201, `stored as report ${stored.id}`), 'ingested', extra);
  };
}
