// The public listeners as fetch-style handlers: HTTPS (policy hosts and the TLS-RPT receiver)
// and the optional plain-HTTP one (ACME challenges, redirects). No sockets here.
import type { ServeMetrics } from './metrics.js';
import { notFound, POLICY_PATH, type PolicyTable, requestHost, servePolicyHost } from './policy-host.js';
import type { RateLimiter } from './rate-limit.js';

export interface ClientInfo {
  remoteAddress: string;
  /** The TLS SNI name, when the request came over TLS with one. */
  servername?: string;
}

export type ClientHandler = (req: Request, client: ClientInfo) => Promise<Response>;

export interface ReceiverMount {
  /** e.g. reports.example.net */
  host: string;
  /** e.g. /tlsrpt */
  path: string;
  handler: (req: Request) => Promise<Response>;
  rateLimiter?: RateLimiter;
}

export interface PublicHandlerOptions {
  policies: () => PolicyTable;
  receiver?: ReceiverMount;
  metrics?: ServeMetrics;
  /** HTTP-01 key authorizations by token. */
  acmeChallenge?: (token: string) => string | undefined;
  nowMs?: () => number;
}

const ACME_PREFIX = '/.well-known/acme-challenge/';

function metricHost(host: string | undefined, options: PublicHandlerOptions): string {
  // Only names we serve become label values: a scanner's Host headers must not grow /metrics.
  if (!host) return 'none';
  if (options.policies().has(host) || host === options.receiver?.host) return host;
  return 'other';
}

export function createHttpsHandler(options: PublicHandlerOptions): ClientHandler {
  const nowMs = options.nowMs ?? Date.now;
  const handle = async (req: Request, client: ClientInfo, host: string | undefined): Promise<Response> => {
    if (!host) return notFound('unknown host');
    const r = options.receiver;
    if (r && host === r.host) {
      const path = new URL(req.url).pathname;
      if (path !== r.path) return notFound();
      if (r.rateLimiter) {
        const t = r.rateLimiter.take(client.remoteAddress, nowMs());
        if (!t.allowed) {
          options.metrics?.report(429, 'rate-limited');
          return new Response('too many reports from this address; retry later\n', {
            status: 429,
            headers: {
              'retry-after': String(t.retryAfterSeconds),
              'content-type': 'text/plain; charset=utf-8',
            },
          });
        }
      }
      return r.handler(req);
    }
    const policy = options.policies().get(host);
    if (!policy) return notFound('unknown host');
    return servePolicyHost(req, policy);
  };
  return async (req, client) => {
    const host = requestHost(req.headers.get('host'), client.servername);
    const res = await handle(req, client, host);
    options.metrics?.request('https', metricHost(host, options), res.status);
    return res;
  };
}

/** Plain HTTP: ACME HTTP-01 answers, and a redirect to HTTPS for everything but the policy path. */
export function createHttpHandler(options: PublicHandlerOptions): ClientHandler {
  const handle = (req: Request, host: string | undefined): Response => {
    const url = new URL(req.url);
    if (url.pathname.startsWith(ACME_PREFIX)) {
      const token = url.pathname.slice(ACME_PREFIX.length);
      const answer = options.acmeChallenge?.(token);
      if (answer === undefined) return notFound('no such challenge');
      return new Response(answer, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }
    // RFC 8461 §3.3: the policy is only ever fetched over HTTPS, and a sender follows no redirect:
    // answering the policy path here with a redirect would only teach bad habits.
    if (url.pathname === POLICY_PATH) {
      return new Response('the MTA-STS policy is served over HTTPS only\n', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    if (!host || (!options.policies().has(host) && host !== options.receiver?.host))
      return notFound('unknown host');
    return new Response(null, {
      status: 301,
      headers: { location: `https://${host}${url.pathname}${url.search}` },
    });
  };
  return async (req) => {
    const host = requestHost(req.headers.get('host'));
    const res = handle(req, host);
    options.metrics?.request('http', metricHost(host, options), res.status);
    return res;
  };
}
