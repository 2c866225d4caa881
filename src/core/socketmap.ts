// Postfix's socketmap protocol (socketmap_table(5)): netstrings `<len>:<payload>,` carrying
// requests `NAME key` and replies `OK data` / `NOTFOUND ` / `TEMP reason` / `PERM reason`,
// and the TLS policy replies an MTA-STS policy becomes (RFC 8461 §4, §5 applied to Postfix).
import { normalizeDomain } from './domain.js';
import type { StsPolicy } from './sts-policy.js';

/** Largest request payload we accept; a request is a map name and a domain. */
export const MAX_REQUEST_BYTES = 1024;
export const NOTFOUND_REPLY = 'NOTFOUND ';

const COLON = 0x3a;
const COMMA = 0x2c;

export class NetstringError extends Error {
  readonly code: 'netstring-malformed' | 'netstring-too-large';
  constructor(code: NetstringError['code'], message: string) {
    super(message);
    this.name = 'NetstringError';
    this.code = code;
  }
}

/**
 * Incremental netstring reader. Feed it any slicing of the stream (down to one byte at a
 * time); it returns the payloads completed so far and throws NetstringError on a malformed
 * or oversized netstring, after which the stream is unusable.
 */
export class NetstringDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxPayload: number;
  private readonly maxDigits: number;

  constructor(maxPayload = MAX_REQUEST_BYTES) {
    this.maxPayload = maxPayload;
    this.maxDigits = String(maxPayload).length;
  }

  /** Bytes received but not yet part of a complete netstring. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): Buffer[] {
    let buf =
      this.pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (buf.length === 0) break;
      const colon = buf.indexOf(COLON);
      const digits = colon < 0 ? buf.length : colon;
      for (let i = 0; i < Math.min(digits, this.maxDigits + 1); i++) {
        const c = buf[i]!;
        if (c < 0x30 || c > 0x39) throw new NetstringError('netstring-malformed', 'length is not a number');
      }
      if (digits > this.maxDigits)
        throw new NetstringError('netstring-too-large', `request longer than ${this.maxPayload} bytes`);
      if (colon < 0) break;
      if (colon === 0) throw new NetstringError('netstring-malformed', 'empty length');
      const len = Number(buf.toString('latin1', 0, colon));
      if (len > this.maxPayload)
        throw new NetstringError('netstring-too-large', `request of ${len} bytes, limit ${this.maxPayload}`);
      const end = colon + 1 + len;
      if (buf.length <= end) break;
      if (buf[end] !== COMMA) throw new NetstringError('netstring-malformed', 'netstring not ended by ","');
      out.push(Buffer.from(buf.subarray(colon + 1, end)));
      buf = buf.subarray(end + 1);
    }
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }
}

export function encodeNetstring(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}:${payload},`;
}

export interface SocketmapRequest {
  /** The map name Postfix put before the key (`socketmap:inet:host:port:NAME`). */
  name: string;
  key: string;
}

/** Split `NAME key`; undefined when there is no space or no key. */
export function parseSocketmapRequest(payload: Buffer | string): SocketmapRequest | undefined {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const space = text.indexOf(' ');
  if (space <= 0 || space === text.length - 1) return undefined;
  return { name: text.slice(0, space), key: text.slice(space + 1) };
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The policy domain a socketmap key stands for, or undefined when no MTA-STS lookup applies.
 * Postfix passes the next-hop: a domain, `[host]`, `[host]:port`, `host:port`, or an address.
 * Keys starting with "." are Postfix's parent-domain probes: RFC 8461 §3.4 forbids falling
 * back to a parent domain's policy, so they never match.
 */
export function socketmapKeyToDomain(key: string): string | undefined {
  let k = key.trim();
  if (k.startsWith('[')) {
    const close = k.indexOf(']');
    if (close < 0) return undefined;
    const rest = k.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    k = k.slice(1, close);
  } else {
    const colon = k.indexOf(':');
    if (colon >= 0) {
      // More than one colon: an IPv6 address, never a policy domain.
      if (k.indexOf(':', colon + 1) >= 0) return undefined;
      if (!/^\d{1,5}$/.test(k.slice(colon + 1))) return undefined;
      k = k.slice(0, colon);
    }
  }
  if (k.startsWith('.') || k.includes(':') || IPV4.test(k.replace(/\.$/, ''))) return undefined;
  const d = normalizeDomain(k);
  return d.ok ? d.value : undefined;
}

export interface ReplyOptions {
  /** Apply `testing` policies as if they were `enforce` (postfix-mta-sts-resolver's strict_testing). */
  strictTesting?: boolean;
  /** Append `servername=hostname` so Postfix sends SNI (RFC 8461 §5 needs it; Postfix >= 3.4). */
  requireSni?: boolean;
  /** Append Postfix >= 3.10's TLSRPT attributes (RFC 8460 §4.4 policy details). */
  tlsrpt?: boolean;
}

/**
 * Postfix's `match=` list: patterns lowercased, duplicates dropped, in policy order.
 * `*.example.net` becomes `.example.net`, the closest Postfix can express; Postfix's form
 * also matches deeper names (a.b.example.net), looser than RFC 8461 §4.1's one label.
 */
export function postfixMatchList(mx: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pattern of mx) {
    const p = pattern.toLowerCase().replace(/\.$/, '');
    const m = p.startsWith('*.') ? p.slice(1) : p;
    if (seen.has(m)) continue;
    seen.add(m);
    out.push(m);
  }
  return out;
}

/** The policy lines as RFC 8460 §4.4's policy-string, rebuilt from the parsed fields. */
export function policyStrings(policy: Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'>): string[] {
  return [
    'version: STSv1',
    `mode: ${policy.mode}`,
    ...policy.mx.map((m) => `mx: ${m.toLowerCase()}`),
    `max_age: ${policy.maxAge}`,
  ];
}

/**
 * The reply Postfix gets for a domain with this policy (or with none). `enforce` (and
 * `testing` under strictTesting) becomes a `secure` TLS policy restricted to the MX patterns;
 * `testing` and `none` deliver as Postfix otherwise would (RFC 8461 §5).
 */
export function formatPolicyReply(
  domain: string,
  policy: Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'> | undefined,
  options: ReplyOptions = {},
): string {
  if (!policy) return NOTFOUND_REPLY;
  const enforce = policy.mode === 'enforce' || (policy.mode === 'testing' && options.strictTesting === true);
  const match = postfixMatchList(policy.mx);
  if (!enforce || match.length === 0) return NOTFOUND_REPLY;
  let reply = `OK secure match=${match.join(':')}`;
  if (options.requireSni !== false) reply += ' servername=hostname';
  if (options.tlsrpt) {
    // Postfix >= 3.10 reads these to fill in the policy part of its TLS reports.
    reply += ` policy_type=sts policy_domain=${domain}`;
    for (const p of policy.mx) reply += ` mx_host_pattern=${p.toLowerCase()}`;
    for (const line of policyStrings(policy)) reply += ` { policy_string = ${line} }`;
  }
  return reply;
}
