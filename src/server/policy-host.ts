// The MTA-STS policy host as a fetch-style handler: one process answers for every
// mta-sts.<domain> in the config. RFC 8461 §3.3: the policy is served over HTTPS at
// /.well-known/mta-sts.txt with status 200 and media type text/plain; senders follow no
// redirects, so this path is never redirected, on any listener.
import type { ConfigDomain } from '../setup/config.js';
import { html, htmlResponse } from './html.js';

export const POLICY_PATH = '/.well-known/mta-sts.txt';

export interface HostedPolicy {
  domain: string;
  /** mta-sts.<domain>, lower case. */
  host: string;
  mode: string;
  mx: string[];
  maxAge: number;
  /** The policy file body, canonical (formatStsPolicy). */
  text: string;
}

export type PolicyTable = ReadonlyMap<string, HostedPolicy>;

/** Index the config's domains by the policy host name they are fetched from. */
export function buildPolicyTable(domains: readonly ConfigDomain[]): Map<string, HostedPolicy> {
  const table = new Map<string, HostedPolicy>();
  for (const d of domains) {
    const host = `mta-sts.${d.domain}`.toLowerCase();
    table.set(host, {
      domain: d.domain,
      host,
      mode: d.mode,
      mx: [...d.mx],
      maxAge: d.maxAge,
      text: d.policyText,
    });
  }
  return table;
}

/**
 * The host a request is for: the Host header without its port, lower case, no trailing dot;
 * an HTTP/1.0 client may send no Host header, and then the TLS SNI name decides.
 */
export function requestHost(
  hostHeader: string | null | undefined,
  sniName?: string | null,
): string | undefined {
  let h = (hostHeader ?? '').trim();
  if (h === '') h = sniName ?? '';
  if (h === '') return undefined;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(0, end + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  h = h.toLowerCase().replace(/\.$/, '');
  return h === '' ? undefined : h;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function notFound(message = 'not found'): Response {
  return new Response(`${message}\n`, {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
  });
}

const encoded = new WeakMap<HostedPolicy, { body: Buffer; headers: Record<string, string> }>();

/** The policy file's bytes and headers, made once per policy (the Node fast path sends the same). */
export function policyFile(policy: HostedPolicy): { body: Buffer; headers: Record<string, string> } {
  let e = encoded.get(policy);
  if (!e) {
    const body = Buffer.from(policy.text, 'utf8');
    // RFC 8461 §3.3: 200 and text/plain. Senders must not cache over HTTP (they cache by
    // max_age); no-store keeps caches in between from serving an old policy after an id change.
    const headers = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.byteLength),
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
    };
    e = { body, headers };
    encoded.set(policy, e);
  }
  return e;
}

function policyFileResponse(policy: HostedPolicy, head: boolean): Response {
  const { body, headers } = policyFile(policy);
  return new Response(head ? null : new Uint8Array(body), { status: 200, headers });
}

function aboutPage(policy: HostedPolicy, head: boolean, status: number): Response {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MTA-STS policy for ${policy.domain}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}</style>
</head><body>
<h1>MTA-STS policy for ${policy.domain}</h1>
<p>This host publishes the <a href="https://www.rfc-editor.org/rfc/rfc8461">MTA-STS</a> policy of
<strong>${policy.domain}</strong>: mail servers that deliver to it use TLS with a valid certificate
for one of the listed MX hosts${policy.mode === 'enforce' ? ', and refuse to deliver otherwise' : ''}.</p>
<p>Mode: <strong>${policy.mode}</strong>. The policy file: <a href="${POLICY_PATH}">${POLICY_PATH}</a></p>
<pre>${policy.text}</pre>
</body></html>`;
  return htmlResponse(head ? html`` : page, status, {
    ...SECURITY_HEADERS,
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
}

/** Answer one request for a known policy host. */
export function servePolicyHost(req: Request, policy: HostedPolicy): Response {
  const method = req.method.toUpperCase();
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    return new Response('method not allowed\n', {
      status: 405,
      headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
    });
  }
  const path = new URL(req.url).pathname;
  if (path === POLICY_PATH) return policyFileResponse(policy, head);
  if (path === '/' || path === '/index.html') return aboutPage(policy, head, 200);
  // Any other path (traversal attempts included: nothing here reads files) gets the same small
  // page, as a 404 so that nothing mistakes it for content at that path.
  return aboutPage(policy, head, 404);
}
