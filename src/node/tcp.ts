// A TCP connect with a time limit, returning failures as data.
import net from 'node:net';

export type TcpConnectResult = { ok: true; socket: net.Socket } | { ok: false; code: string; detail: string };

export function tcpConnect(address: string, port: number, timeoutMs: number): Promise<TcpConnectResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let settled = false;
    const finish = (result: TcpConnectResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      if (!result.ok) socket.destroy();
      else socket.on('error', () => undefined);
      resolve(result);
    };
    const where = net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
    const timer = setTimeout(
      () =>
        finish({ ok: false, code: 'timeout', detail: `no TCP connection to ${where} in ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () => finish({ ok: true, socket }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, code: err.code ?? 'network', detail: `${where}: ${err.message}` }),
    );
  });
}
