// The socketmap listener: TCP or a unix socket, netstring requests answered in order, up to
// a pipelining limit per connection. A malformed or oversized netstring closes that one
// connection; nothing a client sends can stop the server.
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import {
  encodeNetstring,
  MAX_REQUEST_BYTES,
  NetstringDecoder,
  NetstringError,
  parseSocketmapRequest,
  type SocketmapRequest,
} from '../core/socketmap.js';
import type { Logger } from '../ports.js';

export type SocketmapListen =
  | { host: string; port: number; reusePort?: boolean }
  | { path: string; mode?: number; uid?: number; gid?: number };

export interface SocketmapServerOptions {
  listen: SocketmapListen;
  /** The reply text (not yet a netstring) for one request; undefined request = malformed payload. */
  handle: (request: SocketmapRequest | undefined) => string | Promise<string>;
  maxPipeline?: number;
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxRequestBytes?: number;
  logger?: Logger;
}

export interface SocketmapServer {
  /** "host:port" or the socket path. */
  address: string;
  port?: number;
  connections(): number;
  /** Stop accepting, let open requests finish up to drainMs, then close every connection. */
  close(drainMs?: number): Promise<void>;
}

interface Slot {
  reply?: string;
}

class Connection {
  private readonly decoder: NetstringDecoder;
  private readonly slots: Slot[] = [];
  private closing = false;
  private paused = false;

  constructor(
    readonly socket: net.Socket,
    private readonly opts: Required<Pick<SocketmapServerOptions, 'maxPipeline' | 'idleTimeoutMs'>> &
      SocketmapServerOptions,
  ) {
    this.decoder = new NetstringDecoder(opts.maxRequestBytes ?? MAX_REQUEST_BYTES);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => {});
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs, () => {
        if (this.slots.length === 0) socket.destroy();
      });
    }
  }

  get pending(): number {
    return this.slots.length;
  }

  private onData(chunk: Buffer): void {
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof NetstringError)) throw err;
      this.opts.logger?.warn({ code: err.code, remote: this.socket.remoteAddress }, err.message);
      this.socket.destroy();
      return;
    }
    // One read can carry thousands of small requests: hand out at most maxPipeline at a time
    // and keep the rest waiting until answers go out.
    this.backlog.push(...payloads);
    this.dispatch();
  }

  private readonly backlog: Buffer[] = [];

  private dispatch(): void {
    while (this.backlog.length > 0 && this.slots.length < this.opts.maxPipeline && !this.closing) {
      this.enqueue(this.backlog.shift()!);
    }
    const full = this.backlog.length > 0 || this.slots.length >= this.opts.maxPipeline;
    if (full && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!full && this.paused && !this.closing) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private enqueue(payload: Buffer): void {
    let result: string | Promise<string>;
    try {
      result = this.opts.handle(parseSocketmapRequest(payload));
    } catch (err) {
      result = `TEMP ${(err as Error).message ?? 'internal error'}`;
    }
    if (typeof result === 'string' && this.slots.length === 0) {
      this.write(result);
      return;
    }
    const slot: Slot = {};
    this.slots.push(slot);
    if (typeof result === 'string') {
      slot.reply = result;
      this.flush();
      return;
    }
    result.then(
      (reply) => {
        slot.reply = reply;
        this.flush();
      },
      (err: unknown) => {
        slot.reply = `TEMP ${(err as Error)?.message ?? 'internal error'}`;
        this.flush();
      },
    );
  }

  private write(reply: string): void {
    if (!this.socket.destroyed) this.socket.write(encodeNetstring(reply));
  }

  private flush(): void {
    while (this.slots.length > 0 && this.slots[0]!.reply !== undefined) {
      this.write(this.slots.shift()!.reply!);
    }
    if (this.backlog.length > 0 || this.paused) this.dispatch();
    if (this.slots.length === 0 && this.closing) this.socket.end();
  }

  /** Read nothing more; end the connection once the open requests are answered. */
  drain(): void {
    this.closing = true;
    this.socket.pause();
    if (this.slots.length === 0) this.socket.end();
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (st.isSocket()) await unlink(path);
  } catch {
    // Nothing there.
  }
}

export async function startSocketmapServer(options: SocketmapServerOptions): Promise<SocketmapServer> {
  const opts = { maxPipeline: 128, idleTimeoutMs: 300_000, ...options };
  const conns = new Set<Connection>();
  let onConnectionClosed: (() => void) | undefined;
  const server = net.createServer({ noDelay: true }, (socket) => {
    const c = new Connection(socket, opts);
    conns.add(c);
    socket.on('close', () => {
      conns.delete(c);
      onConnectionClosed?.();
    });
  });
  server.maxConnections = opts.maxConnections ?? 10_000;
  server.on('error', (err) => opts.logger?.error({ err: err.message }, 'socketmap listener error'));

  const listen = opts.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in listen) {
      removeStaleSocket(listen.path).then(() => server.listen(listen.path, done), reject);
    } else {
      // reusePort needs Node >= 22.12; on older versions the option is ignored by listen().
      server.listen(
        { host: listen.host, port: listen.port, reusePort: listen.reusePort } as net.ListenOptions,
        done,
      );
    }
  });
  let address: string;
  let port: number | undefined;
  if ('path' in listen) {
    if (listen.mode !== undefined) await chmod(listen.path, listen.mode);
    if (listen.uid !== undefined || listen.gid !== undefined)
      await chown(listen.path, listen.uid ?? -1, listen.gid ?? -1);
    address = listen.path;
  } else {
    const a = server.address() as net.AddressInfo;
    port = a.port;
    address = net.isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  return {
    address,
    ...(port !== undefined ? { port } : {}),
    connections: () => conns.size,
    close: (drainMs = 20_000) =>
      new Promise<void>((resolve) => {
        server.close();
        // Each connection ends itself once its open requests are answered (drain()).
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          for (const c of conns) c.socket.destroy();
          resolve();
        };
        const timer = setTimeout(finish, drainMs);
        onConnectionClosed = () => {
          if (conns.size === 0) finish();
        };
        for (const c of conns) c.drain();
        if (conns.size === 0) finish();
      }),
  };
}
