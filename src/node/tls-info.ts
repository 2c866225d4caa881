// TLS client plumbing shared by the policy fetch and the SMTP probe. The handshake accepts
// any certificate so that the checker, not OpenSSL, judges expiry, names and trust, and can
// report every problem at once; what the peer showed is summarised as TlsPeerInfo.
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { CertificateSummary, TlsPeerInfo } from '../ports.js';

export interface TrustOptions {
  /** Extra trust anchor(s), PEM. */
  caPem?: string;
  /** Also trust the bundled system roots (tls.rootCertificates); default true. */
  useSystemCa?: boolean;
}

/** The `ca` option for node:tls: undefined means Node's defaults. */
export function trustAnchors(options: TrustOptions): string[] | undefined {
  const system = options.useSystemCa !== false;
  if (!options.caPem) return system ? undefined : [];
  return system ? [...tls.rootCertificates, options.caPem] : [options.caPem];
}

/** Client settings that let a TLS 1.0/1.1-only server finish the handshake (to name the fault). */
export const PERMISSIVE_TLS = { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

// Building a context parses every trust anchor (~150 roots): do it once per setting, not once
// per connection.
const contextCache = new Map<string, tls.SecureContext>();

export function clientSecureContext(trust: TrustOptions, permissive: boolean): tls.SecureContext {
  const key = `${trust.useSystemCa !== false}|${permissive}|${trust.caPem ?? ''}`;
  let ctx = contextCache.get(key);
  if (!ctx) {
    const ca = trustAnchors(trust);
    ctx = tls.createSecureContext({
      ...(ca !== undefined ? { ca } : {}),
      ...(permissive ? PERMISSIVE_TLS : { minVersion: 'TLSv1.2' as const }),
    });
    if (contextCache.size >= 16) contextCache.delete(contextCache.keys().next().value as string);
    contextCache.set(key, ctx);
  }
  return ctx;
}

export function isOutdatedProtocol(protocol: string | null | undefined): boolean {
  return protocol === 'TLSv1' || protocol === 'TLSv1.1' || protocol === 'SSLv3';
}

function isoDate(text: string): string {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

/** dNSName entries from Node's subjectAltName string ('DNS:a, DNS:b, IP Address:…'), lowercased. */
export function parseSanDnsNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  // Node quotes (JSON-style) values containing separators or special characters.
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(subjectAltName); m !== null; m = re.exec(subjectAltName)) {
    if (m[0] === '') break;
    if (m[1] !== 'DNS') continue;
    let value = m[2] ?? '';
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    names.push(value.toLowerCase());
  }
  return names;
}

export function summarizeCertificate(raw: Buffer): CertificateSummary {
  return summarizeX509(new X509Certificate(raw));
}

// Certificate summaries by SHA-256 fingerprint: a daemon meets the same few certificates over
// and over, and parsing one with a thousand names costs milliseconds.
const SUMMARY_CACHE_MAX = 2000;
const summaryCache = new Map<string, CertificateSummary>();

function summarizeX509(x: X509Certificate): CertificateSummary {
  const cached = summaryCache.get(x.fingerprint256);
  if (cached) return cached;
  const summary: CertificateSummary = {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    dnsNames: parseSanDnsNames(x.subjectAltName),
    validFrom: isoDate(x.validFrom),
    validTo: isoDate(x.validTo),
    fingerprint256: x.fingerprint256,
    serialNumber: x.serialNumber,
  };
  if (summaryCache.size >= SUMMARY_CACHE_MAX) summaryCache.delete(summaryCache.keys().next().value as string);
  summaryCache.set(x.fingerprint256, summary);
  return summary;
}

/** The chain as OpenSSL presents it: the leaf first, then each issuer (at most 10). */
export function peerChain(socket: tls.TLSSocket): CertificateSummary[] {
  const chain: CertificateSummary[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw && chain.length < 10 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    const cached = summaryCache.get(cert.fingerprint256);
    try {
      chain.push(cached ?? summarizeX509(new X509Certificate(cert.raw)));
    } catch {
      break;
    }
    cert = cert.issuerCertificate;
  }
  return chain;
}

const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const anchorCache = new Map<string, X509Certificate[]>();

function anchorsFor(trust: TrustOptions): X509Certificate[] {
  const key = `${trust.useSystemCa !== false}|${trust.caPem ?? ''}`;
  let anchors = anchorCache.get(key);
  if (!anchors) {
    const pems = [...(trust.useSystemCa !== false ? tls.rootCertificates : [])];
    for (const m of (trust.caPem ?? '').matchAll(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    ))
      pems.push(m[0]);
    anchors = [];
    for (const pem of pems) {
      try {
        anchors.push(new X509Certificate(pem));
      } catch {
        // an unreadable anchor anchors nothing
      }
    }
    if (anchorCache.size >= 16) anchorCache.delete(anchorCache.keys().next().value as string);
    anchorCache.set(key, anchors);
  }
  return anchors;
}

/**
 * Does the presented chain lead to a trust anchor, dates aside? OpenSSL names only one error, so
 * for an expired (or not yet valid) certificate it cannot also tell us whether the chain is
 * trusted: a self-signed expired certificate says just CERT_HAS_EXPIRED.
 */
function chainReachesAnchor(socket: tls.TLSSocket, trust: TrustOptions): boolean {
  const certs: X509Certificate[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw && certs.length < 10 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    try {
      certs.push(new X509Certificate(cert.raw));
    } catch {
      return false;
    }
    cert = cert.issuerCertificate;
  }
  const anchors = anchorsFor(trust);
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i]!;
    if (anchors.some((a) => a.fingerprint256 === c.fingerprint256)) return true;
    if (anchors.some((a) => c.checkIssued(a) && c.verify(a.publicKey))) return true;
    const next = certs[i + 1];
    if (!next || !c.checkIssued(next) || !c.verify(next.publicKey)) return false;
  }
  return false;
}

export function peerInfo(socket: tls.TLSSocket, trust?: TrustOptions): TlsPeerInfo {
  const error = socket.authorizationError as unknown as Error | string | null | undefined;
  const verifyError = error ? String((error as NodeJS.ErrnoException).code ?? error) : undefined;
  const trusted =
    socket.authorized ||
    (verifyError !== undefined && DATE_ERRORS.has(verifyError) && chainReachesAnchor(socket, trust ?? {}));
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.name ?? 'unknown',
    chain: peerChain(socket),
    trusted,
    ...(verifyError ? { verifyError } : {}),
  };
}

export type HandshakeResult =
  | { ok: true; socket: tls.TLSSocket; info: TlsPeerInfo }
  | { ok: false; code: string; detail: string };

/**
 * TLS client handshake over an open socket with SNI = servername. Never rejects the peer's
 * certificate; `permissive` also allows TLS 1.0/1.1. Destroys the socket on failure.
 */
export function tlsHandshake(options: {
  socket: net.Socket;
  servername: string;
  trust: TrustOptions;
  permissive?: boolean;
  timeoutMs: number;
}): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const secure = tls.connect({
      socket: options.socket,
      // RFC 6066 §3: SNI carries host names only, never an address literal.
      ...(net.isIP(options.servername) === 0 ? { servername: options.servername } : {}),
      secureContext: clientSecureContext(options.trust, options.permissive === true),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ...(options.permissive ? PERMISSIVE_TLS : { minVersion: 'TLSv1.2' as const }),
    });
    let settled = false;
    const finish = (result: HandshakeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!result.ok) {
        secure.destroy();
        options.socket.destroy();
      }
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({ ok: false, code: 'timeout', detail: `TLS handshake not done in ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    secure.once('secureConnect', () => {
      secure.removeAllListeners('error');
      secure.on('error', () => undefined);
      finish({ ok: true, socket: secure, info: peerInfo(secure, options.trust) });
    });
    secure.once('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, code: err.code ?? 'tls-error', detail: err.message.split('\n')[0] ?? err.message }),
    );
    secure.once('close', () =>
      finish({ ok: false, code: 'ECONNRESET', detail: 'connection closed during the TLS handshake' }),
    );
  });
}
