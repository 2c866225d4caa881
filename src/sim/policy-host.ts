// The simulator's HTTPS policy host for one `mta-sts.<domain>`, with its declared faults.

import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { IssuedCertificate } from './ca.js';
import { type SimListener, sniTlsOptions, startListener } from './listener.js';
import type { ScenarioDomain } from './scenario.js';

export type HttpFaults = ScenarioDomain['policyHost']['faults'];

export const POLICY_PATH = '/.well-known/mta-sts.txt';

export interface SimPolicyHost {
  port: number;
  stop(): Promise<void>;
}

function writePadded(res: ServerResponse, prefix: Buffer, total: number, stopped: () => boolean): void {
  // Stream `total` bytes (the policy, then filler lines) honouring back-pressure.
  const filler = Buffer.from(`${'x'.repeat(63)}\n`.repeat(1024));
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !stopped()) {
      const chunk = sent < prefix.length ? prefix.subarray(sent) : filler;
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += part.length;
      if (!res.write(part)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!stopped()) res.end();
  };
  pump();
}

export async function startSimPolicyHost(options: {
  body: string;
  faults: HttpFaults;
  hostName: string;
  cert: IssuedCertificate;
  /** Served for any other SNI name, or none. */
  fallbackCert?: IssuedCertificate;
  host?: string;
  delayMs?: number;
  /** Called as each request arrives (tests wait on it instead of sleeping). */
  onRequest?: () => void;
}): Promise<SimPolicyHost> {
  const { faults } = options;
  let listener: SimListener | undefined;
  const server = https.createServer(
    sniTlsOptions(options.hostName, options.cert, options.fallbackCert, faults.tls10Only),
    (req: IncomingMessage, res: ServerResponse) => {
      options.onRequest?.();
      req.resume();
      res.on('error', () => undefined);
      const send = (): void => {
        if (res.destroyed) return;
        const body = Buffer.from(options.body, 'utf8');
        if (req.url !== POLICY_PATH) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        const status = faults.status ?? (faults.location ? 301 : 200);
        const headers: Record<string, string> = {
          'content-type': faults.contentType ?? 'text/plain; charset=utf-8',
          'cache-control': 'max-age=300',
        };
        if (faults.location) headers.location = faults.location;
        if (faults.oversizeBytes !== undefined) {
          // No Content-Length: the body goes out chunked, as a dynamic server would send it.
          res.writeHead(status, headers);
          writePadded(res, body, faults.oversizeBytes, () => res.destroyed);
          return;
        }
        headers['content-length'] = String(body.length);
        res.writeHead(status, headers);
        if (faults.dribble) {
          let i = 0;
          res.flushHeaders();
          const timer = setInterval(() => {
            if (res.destroyed || i >= body.length) {
              clearInterval(timer);
              if (!res.destroyed) res.end();
              return;
            }
            res.write(body.subarray(i, i + 1));
            i++;
          }, 1000);
          listener?.track(timer);
          return;
        }
        res.end(body);
      };
      if (faults.responseDelayMs) {
        const t = setTimeout(send, faults.responseDelayMs);
        listener?.track(t);
      } else {
        send();
      }
    },
  );
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket) => socket.destroy());
  listener = await startListener((socket) => server.emit('connection', socket), {
    host: options.host,
    delayMs: options.delayMs,
  });
  const active = listener;
  return {
    port: active.port,
    async stop() {
      await active.stop();
      server.close();
    },
  };
}
