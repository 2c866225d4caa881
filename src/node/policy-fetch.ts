// The policy fetch of RFC 8461 §3.3: GET https://mta-sts.<domain>/.well-known/mta-sts.txt
// with SNI, TLS >= 1.2, no redirects followed, no cache, a body cap and one time limit for all.
import type net from 'node:net';
import type tls from 'node:tls';
import { domainToASCII } from 'node:url';
import type {
  ConnectTo,
  DnsResolver,
  NetFailure,
  PolicyFetcher,
  PolicyFetchOptions,
  PolicyFetchResult,
  TlsPeerInfo,
} from '../ports.js';
import { resolveConnectTarget } from './connect-to.js';
import { type HttpParseError, HttpResponseReader } from './http-response.js';
import { tcpConnect } from './tcp.js';
import { isOutdatedProtocol, type TrustOptions, tlsHandshake } from './tls-info.js';

export interface PolicyFetcherOptions extends TrustOptions {
  dns: DnsResolver;
  connectTo?: ConnectTo[];
  /** The whole fetch (DNS, connect, TLS, response), default 10 000 ms. */
  timeoutMs?: number;
  userAgent?: string;
}

export const POLICY_PATH = '/.well-known/mta-sts.txt';
export const DEFAULT_POLICY_MAX_BYTES = 65_536;

class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<net.Socket>();
  readonly expired: Promise<void>;
  fired = false;
  constructor(ms: number, signal?: AbortSignal) {
    this.expired = new Promise((resolve) => {
      const fire = (): void => {
        this.fired = true;
        for (const s of this.sockets) s.destroy();
        resolve();
      };
      this.timer = setTimeout(fire, ms);
      if (signal) {
        if (signal.aborted) fire();
        else signal.addEventListener('abort', fire, { once: true });
      }
    });
  }
  own(socket: net.Socket): void {
    if (this.fired) socket.destroy();
    this.sockets.add(socket);
  }
  clear(): void {
    clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
  }
}

function fail(
  stage: NetFailure['stage'],
  code: string,
  detail: string,
  address?: string,
  tlsInfo?: TlsPeerInfo,
): PolicyFetchResult {
  return {
    ok: false,
    ...(address !== undefined ? { address } : {}),
    failure: { stage, code, detail, ...(tlsInfo ? { tls: tlsInfo } : {}) },
  };
}

export function createPolicyFetcher(options: PolicyFetcherOptions): PolicyFetcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const trust: TrustOptions = { caPem: options.caPem, useSystemCa: options.useSystemCa };
  const userAgent = options.userAgent ?? 'mta-sts-kit/0.1 (+policy check)';

  async function fetchPolicy(
    domain: string,
    fetchOptions: PolicyFetchOptions = {},
  ): Promise<PolicyFetchResult> {
    const maxBytes = fetchOptions.maxBytes ?? DEFAULT_POLICY_MAX_BYTES;
    const ascii = domainToASCII(domain.trim().replace(/\.$/, '')).toLowerCase();
    if (ascii === '') return fail('dns', 'invalid-name', `"${domain}" is not a valid domain name`);
    const host = `mta-sts.${ascii}`;
    const deadline = new Deadline(timeoutMs, fetchOptions.signal);
    const state: { phase: string; address?: string; tls?: TlsPeerInfo } = { phase: 'resolving the host' };

    const work = (async (): Promise<PolicyFetchResult> => {
      // RFC 8461 §3.3: the policy host's addresses, from DNS (a CNAME is fine).
      const [a, aaaa] = await Promise.all([options.dns.a(host), options.dns.aaaa(host)]);
      const addresses = [
        ...(a.status === 'ok' ? a.records : []),
        ...(aaaa.status === 'ok' ? aaaa.records : []),
      ];
      if (addresses.length === 0) {
        const err = a.status === 'error' ? a : aaaa.status === 'error' ? aaaa : undefined;
        if (err) return fail('dns', err.error, `${host}: ${err.detail}`);
        const code = a.status === 'nxdomain' && aaaa.status !== 'nodata' ? 'nxdomain' : 'nodata';
        return fail('dns', code, `${host} has no A or AAAA record (${code.toUpperCase()})`);
      }

      let socket: net.Socket | undefined;
      let target = { address: '', port: 443 };
      let lastFailure: PolicyFetchResult | undefined;
      for (const address of addresses) {
        if (deadline.fired) break;
        state.phase = `connecting to ${address}`;
        state.address = address;
        target = resolveConnectTarget(options.connectTo, host, address, 443);
        // Share the time between addresses so a black-holed first one leaves room for the next.
        const connectMs = Math.max(1000, Math.floor(timeoutMs / addresses.length));
        const conn = await tcpConnect(target.address, target.port, connectMs);
        if (conn.ok) {
          socket = conn.socket;
          deadline.own(socket);
          break;
        }
        lastFailure = fail('connect', conn.code, `${host} (${address}): ${conn.detail}`, address);
      }
      const address = state.address ?? '';
      if (!socket) return lastFailure ?? fail('connect', 'no-address', `${host}: no address to connect to`);

      // RFC 8461 §3.3: HTTPS with SNI, TLS 1.2 or later; the certificate is judged by the caller.
      state.phase = 'TLS handshake';
      const hs = await tlsHandshake({ socket, servername: host, trust, timeoutMs });
      let secure: tls.TLSSocket;
      if (!hs.ok) {
        if (hs.code === 'timeout' || deadline.fired) return fail('timeout', 'timeout', hs.detail, address);
        // Find out whether the server only speaks an outdated TLS version.
        const again = await tcpConnect(target.address, target.port, timeoutMs);
        if (again.ok) {
          deadline.own(again.socket);
          const old = await tlsHandshake({
            socket: again.socket,
            servername: host,
            trust,
            permissive: true,
            timeoutMs,
          });
          if (old.ok) {
            old.socket.destroy();
            if (isOutdatedProtocol(old.info.protocol)) {
              return fail(
                'tls',
                'tls-version',
                `${host} offers only ${old.info.protocol}`,
                address,
                old.info,
              );
            }
          }
        }
        return fail('tls', hs.code, `${host} (${address}): ${hs.detail}`, address);
      }
      secure = hs.socket;
      deadline.own(secure);
      state.tls = hs.info;

      // RFC 8461 §3.3: no caching, no redirects; Connection: close keeps the reader simple.
      state.phase = 'waiting for the response';
      const request =
        `GET ${POLICY_PATH} HTTP/1.1\r\n` +
        `Host: ${host}\r\n` +
        `User-Agent: ${userAgent}\r\n` +
        'Accept: text/plain, */*;q=0.1\r\n' +
        'Accept-Encoding: identity\r\n' +
        'Cache-Control: no-cache\r\n' +
        'Connection: close\r\n\r\n';
      const reader = new HttpResponseReader({ maxBodyBytes: maxBytes });
      const outcome = await new Promise<{ ok: true } | { ok: false; code: string; detail: string }>(
        (resolve) => {
          const onData = (chunk: Buffer): void => {
            try {
              if (reader.push(chunk)) {
                cleanup();
                resolve({ ok: true });
              } else if (reader.stage === 'body') state.phase = 'reading the body';
            } catch (err) {
              cleanup();
              resolve({
                ok: false,
                code: (err as HttpParseError).code ?? 'http-error',
                detail: (err as Error).message,
              });
            }
          };
          const onEnd = (): void => {
            cleanup();
            try {
              reader.end();
              resolve({ ok: true });
            } catch (err) {
              const e = err as HttpParseError;
              resolve({ ok: false, code: deadline.fired ? 'timeout' : e.code, detail: e.message });
            }
          };
          const onError = (err: NodeJS.ErrnoException): void => {
            cleanup();
            resolve({ ok: false, code: err.code ?? 'network', detail: err.message });
          };
          const cleanup = (): void => {
            secure.off('data', onData);
            secure.off('end', onEnd);
            secure.off('close', onEnd);
            secure.off('error', onError);
          };
          secure.on('data', onData);
          secure.on('end', onEnd);
          secure.on('close', onEnd);
          secure.on('error', onError);
          secure.write(request);
        },
      );
      secure.destroy();
      if (!outcome.ok) {
        if (deadline.fired)
          return fail('timeout', 'timeout', `${host}: no complete answer in time`, address, hs.info);
        return fail('http', outcome.code, `${host} (${address}): ${outcome.detail}`, address, hs.info);
      }
      const response = reader.result();
      return {
        ok: true,
        address,
        status: response.status,
        headers: response.headers,
        ...(response.headers['content-type'] !== undefined
          ? { contentType: response.headers['content-type'] }
          : {}),
        ...(response.headers.location !== undefined ? { location: response.headers.location } : {}),
        body: new Uint8Array(response.body),
        truncated: response.truncated,
        tls: hs.info,
      };
    })();

    const timedOut = deadline.expired.then(
      (): PolicyFetchResult =>
        fail(
          'timeout',
          'timeout',
          `${host}: no complete answer within ${timeoutMs} ms (while ${state.phase})`,
          state.address,
          state.tls,
        ),
    );
    try {
      return await Promise.race([work, timedOut]);
    } finally {
      deadline.clear();
      work.catch(() => undefined);
    }
  }

  return { fetchPolicy };
}
