// The narrow interfaces between the pure core / orchestration and the outside world.
// Adapters in src/node/ implement them; tests and the simulator may supply fakes.
import type { PolicyCacheEntry } from './core/policy-cache.js';

/** Why a DNS question could not be answered. Never confuse these with "absent". */
export type DnsErrorKind = 'servfail' | 'timeout' | 'refused' | 'network' | 'malformed';

/**
 * A DNS answer that keeps "absent" (nxdomain / nodata) apart from "could not tell" (error).
 * `cnameChain` lists the CNAME targets followed from the queried name, in order.
 */
export type DnsAnswer<T> =
  | { status: 'ok'; records: T[]; cnameChain: string[]; ttl?: number }
  | { status: 'nxdomain'; cnameChain: string[] }
  | { status: 'nodata'; cnameChain: string[] }
  | { status: 'error'; error: DnsErrorKind; detail: string };

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface DnsResolver {
  /** Each TXT record as the list of its character-strings (not joined). */
  txt(name: string): Promise<DnsAnswer<string[]>>;
  mx(name: string): Promise<DnsAnswer<MxRecord>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  cname(name: string): Promise<DnsAnswer<string>>;
}

/** One hop of curl's --connect-to: connections to host:port go to address:toPort instead. */
export interface ConnectTo {
  host: string;
  port: number;
  toAddress: string;
  toPort: number;
}

/** What a TLS peer showed us. Dates are ISO 8601 strings. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  /** subjectAltName dNSName entries, lowercased. */
  dnsNames: string[];
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  serialNumber: string;
}

export interface TlsPeerInfo {
  /** e.g. 'TLSv1.3' */
  protocol: string;
  cipher: string;
  /** The leaf first, then the rest of the chain as presented/built. */
  chain: CertificateSummary[];
  /**
   * True when the chain reaches a trust anchor, dates aside (expiry and the name are judged
   * separately from `chain`), so an expired certificate from a trusted CA is trusted-but-expired.
   */
  trusted: boolean;
  /** OpenSSL's verification code when not trusted, e.g. 'DEPTH_ZERO_SELF_SIGNED_CERT'. */
  verifyError?: string;
}

export type NetFailureStage = 'dns' | 'connect' | 'tls' | 'banner' | 'ehlo' | 'starttls' | 'http' | 'timeout';

export interface NetFailure {
  stage: NetFailureStage;
  /** A stable code: a Node/OpenSSL error code ('ECONNREFUSED', 'ERR_SSL_...') or ours ('timeout', 'too-large'). */
  code: string;
  detail: string;
  /** TLS facts when the handshake got far enough to see a certificate. */
  tls?: TlsPeerInfo;
}

export type PolicyFetchResult =
  | {
      ok: true;
      /** The address actually connected to. */
      address: string;
      status: number;
      /** Header names lowercased. */
      headers: Record<string, string>;
      contentType?: string;
      location?: string;
      body: Uint8Array;
      /** True when the body was longer than the cap and reading stopped there. */
      truncated: boolean;
      tls: TlsPeerInfo;
    }
  | { ok: false; address?: string; failure: NetFailure };

export interface PolicyFetchOptions {
  signal?: AbortSignal;
  /** Body cap in bytes (default 65536). */
  maxBytes?: number;
}

export interface PolicyFetcher {
  /** GET https://mta-sts.<domain>/.well-known/mta-sts.txt as RFC 8461 §3.3 says. */
  fetchPolicy(domain: string, options?: PolicyFetchOptions): Promise<PolicyFetchResult>;
}

export interface SmtpProbeResult {
  host: string;
  address: string;
  port: number;
  banner?: string;
  /** EHLO keywords as sent by the server (first line excluded), uppercased keyword first. */
  ehlo?: string[];
  starttls: 'offered' | 'not-offered' | 'refused' | 'unknown';
  tls?: TlsPeerInfo;
  failure?: NetFailure;
}

export interface SmtpProber {
  /** Connect to address (port 25 unless mapped), banner, EHLO, STARTTLS, TLS handshake with SNI = host. */
  probe(host: string, address: string, options?: { signal?: AbortSignal }): Promise<SmtpProbeResult>;
}

export interface Clock {
  now(): Date;
}

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export const systemClock: Clock = { now: () => new Date() };

/** Where the resolver keeps its policy cache: memory, SQLite or Redis (src/resolver/stores/). */
export interface PolicyCacheStore {
  /** Synchronous read for stores that hold every entry in memory (the fast path), else absent. */
  peek?(domain: string): PolicyCacheEntry | undefined;
  get(domain: string): Promise<PolicyCacheEntry | undefined>;
  set(entry: PolicyCacheEntry): Promise<void>;
  delete(domain: string): Promise<void>;
  /** Every entry (for eviction sweeps and proactive refresh). */
  list(): Promise<PolicyCacheEntry[]>;
  close(): Promise<void>;
}

/** Where TLS reports are kept (SQLite or PostgreSQL through Kysely: src/reports/store.ts). */
export type { ReportStore } from './reports/types.js';
