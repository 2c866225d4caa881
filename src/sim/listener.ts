// A loopback TCP listener that tracks its sockets (so stop() never waits on a stuck peer),
// optionally delays each accepted connection, then hands it to a handler.
import net from 'node:net';
import tls from 'node:tls';

export interface SimListener {
  port: number;
  stop(): Promise<void>;
  /** Register a timer to clear on stop. */
  track(timer: NodeJS.Timeout): void;
}

export async function startListener(
  onConnection: (socket: net.Socket) => void,
  options: { host?: string; delayMs?: number } = {},
): Promise<SimListener> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const delay = options.delayMs ?? 0;
    if (delay <= 0) {
      onConnection(socket);
      return;
    }
    socket.pause();
    const t = setTimeout(() => {
      timers.delete(t);
      if (socket.destroyed) return;
      // Hand the socket over still paused: resuming it first would emit (and lose) bytes the
      // client sent early, such as a TLS ClientHello, before the handler listens for them.
      // A handler that reads through 'data' events is then let go; a TLS server that took
      // over the socket reads it by itself.
      onConnection(socket);
      if (socket.listenerCount('data') > 0) socket.resume();
    }, delay);
    timers.add(t);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    track(timer) {
      timers.add(timer);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A TCP port on 127.0.0.1 where nothing listens (bound, then released): connections are refused. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** TLS options for a server that speaks only TLS 1.0 (OpenSSL 3 needs security level 0 for it). */
export const TLS10_ONLY = {
  minVersion: 'TLSv1',
  maxVersion: 'TLSv1',
  ciphers: 'DEFAULT@SECLEVEL=0',
} as const;

/**
 * Server TLS options where SNI picks the certificate: the host's own for its name, the
 * fallback for any other name or for a client that sends no SNI (as shared hosting does).
 */
export function sniTlsOptions(
  hostName: string,
  cert: { certPem: string; keyPem: string },
  fallback: { certPem: string; keyPem: string } | undefined,
  tls10Only: boolean,
): tls.TlsOptions {
  const versions = tls10Only ? TLS10_ONLY : { minVersion: 'TLSv1.2' as const };
  if (!fallback) return { cert: cert.certPem, key: cert.keyPem, ...versions };
  const own = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem, ...versions });
  const other = tls.createSecureContext({ cert: fallback.certPem, key: fallback.keyPem, ...versions });
  return {
    cert: fallback.certPem,
    key: fallback.keyPem,
    ...versions,
    SNICallback: (servername, done) => done(null, servername.toLowerCase() === hostName ? own : other),
  };
}
