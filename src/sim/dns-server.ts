// The simulator's authoritative DNS server over UDP and TCP (RFC 1035 §4.2), answering from
// SimZoneData. UDP answers over 512 bytes are truncated (TC bit) so clients retry over TCP.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { SimZoneData } from './zone.js';

const UDP_LIMIT = 512;
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const TCP_IDLE_MS = 10_000;
const TCP_MAX_BUFFER = 70_000;

export interface SimDnsServer {
  address: string;
  port: number;
  /** Queries answered so far (for tests and benchmarks). */
  queries(): number;
  stop(): Promise<void>;
}

function encodeReply(
  query: dnsPacket.DecodedPacket,
  rcode: keyof typeof RCODES,
  aa: boolean,
  answers: dnsPacket.Answer[],
  authorities: dnsPacket.Answer[],
  truncate: boolean,
): Buffer {
  let flags = RCODES[rcode];
  if (aa) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  if (query.flag_rd) flags |= dnsPacket.RECURSION_DESIRED;
  const base = { type: 'response' as const, id: query.id ?? 0, questions: query.questions ?? [] };
  const full = dnsPacket.encode({ ...base, flags, answers, authorities });
  if (!truncate || full.length <= UDP_LIMIT) return full;
  return dnsPacket.encode({
    ...base,
    flags: flags | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}

/** Build the response bytes for one query message, or null to stay silent. */
function respond(zone: SimZoneData, message: Buffer, overUdp: boolean): Buffer | null {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return null; // undecodable: a real server may answer FORMERR, silence is fine too
  }
  if (query.type !== 'query') return null;
  const questions = query.questions ?? [];
  const question = questions[0];
  if (questions.length !== 1 || question === undefined) {
    return encodeReply(query, 'REFUSED', false, [], [], overUdp);
  }
  try {
    const reply = zone.answer(question.name, question.type);
    if (reply.drop) return null;
    return encodeReply(query, reply.rcode, reply.authoritative, reply.answers, reply.authorities, overUdp);
  } catch {
    // A daemon never dies on a strange question; answer SERVFAIL instead.
    return encodeReply(query, 'SERVFAIL', false, [], [], overUdp);
  }
}

export async function startSimDnsServer(
  zone: SimZoneData,
  options: { host?: string; port?: number; delayMs?: number } = {},
): Promise<SimDnsServer> {
  // Port 0 picks a free TCP port; the same UDP port may be taken, so try a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(zone, options);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || (options.port ?? 0) !== 0 || attempt >= 5) throw err;
    }
  }
}

async function startOnce(
  zone: SimZoneData,
  options: { host?: string; port?: number; delayMs?: number },
): Promise<SimDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const delayMs = options.delayMs ?? 0;
  let answered = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void): void => {
    if (delayMs <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, delayMs);
    timers.add(t);
  };

  const tcp = net.createServer();
  const sockets = new Set<net.Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > TCP_MAX_BUFFER) {
        socket.destroy();
        return;
      }
      while (buffer.length >= 2) {
        const len = buffer.readUInt16BE(0);
        if (buffer.length < 2 + len) break;
        const message = buffer.subarray(2, 2 + len);
        buffer = buffer.subarray(2 + len);
        const out = respond(zone, message, false);
        if (out === null) continue;
        answered++;
        later(() => {
          if (socket.destroyed) return;
          const frame = Buffer.alloc(2);
          frame.writeUInt16BE(out.length, 0);
          socket.write(Buffer.concat([frame, out]));
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port ?? 0, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;

  // Same port number for UDP, as a real server has.
  const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  udp.on('message', (message, rinfo) => {
    const out = respond(zone, message, true);
    if (out === null) return;
    answered++;
    later(() => udp.send(out, rinfo.port, rinfo.address, () => undefined));
  });
  udp.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    tcp.close();
    throw err;
  }

  return {
    address: host,
    port,
    queries: () => answered,
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => tcp.close(() => resolve())),
        new Promise<void>((resolve) => udp.close(() => resolve())),
      ]);
    },
  };
}
