// The SMTP probe: connect to an MX address, read the banner, EHLO, STARTTLS (RFC 3207), TLS
// handshake with SNI = the MX host name, collect what the server showed, QUIT. Every stage has
// a time limit; hostile servers (no banner, endless replies, garbage) end in a failure.
import { hostname } from 'node:os';
import type {
  ConnectTo,
  NetFailure,
  NetFailureStage,
  SmtpProbeResult,
  SmtpProber,
  TlsPeerInfo,
} from '../ports.js';
import { resolveConnectTarget } from './connect-to.js';
import { SmtpReplyReader } from './smtp-reply.js';
import { tcpConnect } from './tcp.js';
import { isOutdatedProtocol, type TrustOptions, tlsHandshake } from './tls-info.js';

export interface SmtpProberOptions extends TrustOptions {
  connectTo?: ConnectTo[];
  /** Time limit of each stage (connect, banner, EHLO, STARTTLS, TLS), default 10 000 ms. */
  timeoutMs?: number;
  /** Our EHLO name; default this machine's name when it is fully qualified. */
  ehloName?: string;
  /** Default 25. */
  port?: number;
  /** Lines allowed in one reply, default 1000. */
  maxReplyLines?: number;
}

const QUIT_WAIT_MS = 1000;

function defaultEhloName(): string {
  const name = hostname();
  return name.includes('.') && /^[A-Za-z0-9.-]+$/.test(name) ? name : 'localhost.localdomain';
}

/** EHLO lines after the greeting, keyword uppercased: 'STARTTLS', 'SIZE 10485760'. */
function ehloKeywords(lines: string[]): string[] {
  return lines.slice(1).map((line) => {
    const [keyword = '', ...rest] = line.trim().split(/\s+/);
    return [keyword.toUpperCase(), ...rest].join(' ');
  });
}

interface SessionOutcome {
  result: SmtpProbeResult;
  /** Set when the TLS handshake itself failed (worth a permissive retry). */
  tlsFailed?: { code: string; detail: string };
  /** Set by a permissive session that completed the handshake. */
  tls?: TlsPeerInfo;
}

export function createSmtpProber(options: SmtpProberOptions = {}): SmtpProber {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = options.port ?? 25;
  const ehloName = options.ehloName ?? defaultEhloName();
  const trust: TrustOptions = { caPem: options.caPem, useSystemCa: options.useSystemCa };

  async function session(
    host: string,
    address: string,
    permissive: boolean,
    signal?: AbortSignal,
  ): Promise<SessionOutcome> {
    const result: SmtpProbeResult = { host, address, port, starttls: 'unknown' };
    const failed = (stage: NetFailureStage, code: string, detail: string): SessionOutcome => {
      const failure: NetFailure = { stage, code, detail: `${host} (${address}): ${detail}` };
      return { result: { ...result, failure } };
    };
    const target = resolveConnectTarget(options.connectTo, host, address, port);
    const conn = await tcpConnect(target.address, target.port, timeoutMs);
    if (!conn.ok) return failed('connect', conn.code, conn.detail);
    const socket = conn.socket;
    const onAbort = (): void => {
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reader = new SmtpReplyReader(socket, { maxLines: options.maxReplyLines });
      const quit = async (): Promise<void> => {
        if (socket.destroyed) return;
        socket.write('QUIT\r\n');
        await reader.read(Math.min(QUIT_WAIT_MS, timeoutMs));
        socket.destroy();
      };

      const banner = await reader.read(timeoutMs);
      if (!banner.ok) return failed('banner', banner.code, `banner: ${banner.detail}`);
      result.banner = banner.reply.lines.join('\n');
      if (banner.reply.code !== 220) {
        await quit();
        return failed('banner', 'rejected', `banner ${banner.reply.code} ${banner.reply.lines[0] ?? ''}`);
      }

      socket.write(`EHLO ${ehloName}\r\n`);
      const ehlo = await reader.read(timeoutMs);
      if (!ehlo.ok) return failed('ehlo', ehlo.code, `EHLO: ${ehlo.detail}`);
      if (ehlo.reply.code !== 250) {
        await quit();
        return failed('ehlo', 'rejected', `EHLO answered ${ehlo.reply.code} ${ehlo.reply.lines[0] ?? ''}`);
      }
      result.ehlo = ehloKeywords(ehlo.reply.lines);
      if (!result.ehlo.some((k) => k === 'STARTTLS')) {
        result.starttls = 'not-offered';
        await quit();
        return { result };
      }

      socket.write('STARTTLS\r\n');
      const go = await reader.read(timeoutMs);
      if (!go.ok) return failed('starttls', go.code, `STARTTLS: ${go.detail}`);
      if (go.reply.code !== 220) {
        result.starttls = 'refused';
        await quit();
        return failed(
          'starttls',
          'refused',
          `STARTTLS answered ${go.reply.code} ${go.reply.lines.join(' ')}`,
        );
      }
      result.starttls = 'offered';
      reader.detach();

      const hs = await tlsHandshake({ socket, servername: host, trust, permissive, timeoutMs });
      if (!hs.ok) {
        const outcome = failed('tls', hs.code, `TLS handshake: ${hs.detail}`);
        return hs.code === 'timeout'
          ? outcome
          : { ...outcome, tlsFailed: { code: hs.code, detail: hs.detail } };
      }
      // Say goodbye politely over TLS; the facts are already in hand.
      const secure = hs.socket;
      const secureReader = new SmtpReplyReader(secure);
      secure.write('QUIT\r\n');
      await secureReader.read(Math.min(QUIT_WAIT_MS, timeoutMs));
      secure.destroy();
      return { result: { ...result, tls: hs.info }, tls: hs.info };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    }
  }

  async function probe(
    host: string,
    address: string,
    probeOptions: { signal?: AbortSignal } = {},
  ): Promise<SmtpProbeResult> {
    const name = host.toLowerCase().replace(/\.$/, '');
    const first = await session(name, address, false, probeOptions.signal);
    if (!first.tlsFailed || probeOptions.signal?.aborted) return first.result;
    // The strict handshake failed: does the server speak only TLS 1.0/1.1?
    const again = await session(name, address, true, probeOptions.signal);
    if (again.tls && isOutdatedProtocol(again.tls.protocol)) {
      return {
        ...first.result,
        failure: {
          stage: 'tls',
          code: 'tls-version',
          detail: `${name} (${address}): the server offers only ${again.tls.protocol}`,
          tls: again.tls,
        },
      };
    }
    return first.result;
  }

  return { probe };
}
