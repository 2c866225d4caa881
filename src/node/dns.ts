// A small stub resolver on dns-packet: UDP with retries, TCP when the answer is truncated,
// CNAME chains followed and reported, and "absent" kept apart from "could not tell".
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { DnsAnswer, DnsErrorKind, DnsResolver, MxRecord } from '../ports.js';

export interface DnsServerAddress {
  address: string;
  port: number;
}

export interface DnsResolverOptions {
  /** 'IP', 'IP:PORT' or '[IPv6]:PORT'; default: the system's resolvers (node:dns getServers()). */
  servers?: string[];
  /** Per attempt, default 2000 ms. */
  timeoutMs?: number;
  /** Rounds over the server list, default 2. */
  tries?: number;
}

export class DnsConfigError extends Error {
  readonly code = 'invalid-resolver';
  constructor(message: string) {
    super(message);
    this.name = 'DnsConfigError';
  }
}

const MAX_CNAME_HOPS = 8;
const MAX_RECORDS = 1000;
const TCP_MAX_MESSAGE = 65_535;

/** Parse 'IP', 'IP:PORT', '[IPv6]:PORT' or a bare IPv6 address; throws DnsConfigError. */
export function parseDnsServer(spec: string): DnsServerAddress {
  const s = spec.trim();
  let address: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const v4port = /^([0-9.]+):(\d+)$/.exec(s);
  if (bracketed) {
    address = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!net.isIPv6(address))
      throw new DnsConfigError(`resolver "${spec}": "${address}" is not an IPv6 address`);
  } else if (v4port) {
    address = v4port[1] ?? '';
    portText = v4port[2];
  } else {
    address = s;
  }
  if (net.isIP(address) === 0) {
    throw new DnsConfigError(`resolver "${spec}": expected IP, IP:PORT or [IPv6]:PORT`);
  }
  const port = portText === undefined ? 53 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DnsConfigError(`resolver "${spec}": port must be 1 to 65535`);
  }
  return { address, port };
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function validName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => label.length >= 1 && label.length <= 63);
}

type Exchange =
  | { kind: 'packet'; packet: dnsPacket.DecodedPacket & { rcode?: string }; server: string }
  | { kind: 'error'; error: DnsErrorKind; detail: string };

function label(server: DnsServerAddress): string {
  return net.isIPv6(server.address)
    ? `[${server.address}]:${server.port}`
    : `${server.address}:${server.port}`;
}

function buildQuery(id: number, name: string, type: dnsPacket.RecordType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
  });
}

/** The response answers our question: same id, a response, the one question we asked. */
function matchesQuery(
  packet: dnsPacket.DecodedPacket,
  id: number,
  name: string,
  type: dnsPacket.RecordType,
): boolean {
  if (packet.id !== id || packet.type !== 'response') return false;
  const q = packet.questions ?? [];
  if (q.length !== 1) return false;
  const first = q[0];
  return first !== undefined && normalizeName(first.name) === normalizeName(name) && first.type === type;
}

function udpExchange(
  server: DnsServerAddress,
  name: string,
  type: dnsPacket.RecordType,
  timeoutMs: number,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const id = randomInt(0, 65536);
    const socket = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    let sawMalformed = false;
    let settled = false;
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish(
        sawMalformed
          ? { kind: 'error', error: 'malformed', detail: `${label(server)} sent an undecodable answer` }
          : { kind: 'error', error: 'timeout', detail: `no answer from ${label(server)} in ${timeoutMs} ms` },
      );
    }, timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish({ kind: 'error', error: 'network', detail: `${label(server)}: ${err.code ?? err.message}` });
    });
    socket.on('message', (message) => {
      let packet: dnsPacket.DecodedPacket;
      try {
        packet = dnsPacket.decode(message);
      } catch {
        sawMalformed = true;
        return;
      }
      // A stray or spoofed datagram is ignored; we keep waiting for ours.
      if (!matchesQuery(packet, id, name, type)) return;
      finish({ kind: 'packet', packet, server: label(server) });
    });
    // A connected socket only accepts datagrams from the server and reports ICMP errors.
    socket.connect(server.port, server.address, () => {
      socket.send(buildQuery(id, name, type), (err) => {
        if (err) finish({ kind: 'error', error: 'network', detail: `${label(server)}: ${err.message}` });
      });
    });
  });
}

function tcpExchange(
  server: DnsServerAddress,
  name: string,
  type: dnsPacket.RecordType,
  timeoutMs: number,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const id = randomInt(0, 65536);
    const query = buildQuery(id, name, type);
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    let buffer = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: server.address, port: server.port });
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish({
        kind: 'error',
        error: 'timeout',
        detail: `no TCP answer from ${label(server)} in ${timeoutMs} ms`,
      });
    }, timeoutMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish({
        kind: 'error',
        error: 'network',
        detail: `${label(server)} (TCP): ${err.code ?? err.message}`,
      });
    });
    socket.on('close', () => {
      finish({ kind: 'error', error: 'network', detail: `${label(server)} closed the TCP connection` });
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2) return;
      const len = buffer.readUInt16BE(0);
      if (buffer.length > 2 + TCP_MAX_MESSAGE) {
        finish({ kind: 'error', error: 'malformed', detail: `${label(server)} sent too much over TCP` });
        return;
      }
      if (buffer.length < 2 + len) return;
      try {
        const packet = dnsPacket.decode(buffer.subarray(2, 2 + len));
        if (!matchesQuery(packet, id, name, type)) {
          finish({ kind: 'error', error: 'malformed', detail: `${label(server)} answered another question` });
          return;
        }
        finish({ kind: 'packet', packet, server: label(server) });
      } catch (err) {
        finish({ kind: 'error', error: 'malformed', detail: `${label(server)}: ${(err as Error).message}` });
      }
    });
  });
}

function rcodeOf(packet: Exchange & { kind: 'packet' }): string {
  return packet.packet.rcode ?? 'NOERROR';
}

type RawAnswer = dnsPacket.Answer;

export function createDnsResolver(options: DnsResolverOptions = {}): DnsResolver {
  const specs = options.servers && options.servers.length > 0 ? options.servers : getServers();
  const servers = specs.map(parseDnsServer);
  if (servers.length === 0) throw new DnsConfigError('no DNS resolver configured');
  const timeoutMs = options.timeoutMs ?? 2000;
  const tries = Math.max(1, options.tries ?? 2);

  async function exchange(name: string, type: dnsPacket.RecordType): Promise<Exchange> {
    let last: Exchange | undefined;
    const skip = new Set<number>();
    for (let attempt = 0; attempt < tries; attempt++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[i];
        if (server === undefined || skip.has(i)) continue;
        let result = await udpExchange(server, name, type, timeoutMs);
        // RFC 1035 §4.2.1: a truncated UDP answer is retried over TCP.
        if (result.kind === 'packet' && result.packet.flag_tc) {
          result = await tcpExchange(server, name, type, timeoutMs);
        }
        if (result.kind === 'packet') {
          const rcode = rcodeOf(result);
          if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return result;
          // This server cannot help; another one might.
          skip.add(i);
        }
        last = result;
      }
    }
    return last ?? { kind: 'error', error: 'network', detail: 'no usable DNS server' };
  }

  async function lookup(qname: string, type: dnsPacket.RecordType): Promise<DnsAnswer<RawAnswer>> {
    const start = normalizeName(qname);
    if (!validName(start)) return { status: 'error', error: 'malformed', detail: `invalid name "${qname}"` };
    const chain: string[] = [];
    const visited = new Set<string>([start]);
    let current = start;
    for (let query = 0; query <= MAX_CNAME_HOPS; query++) {
      const result = await exchange(current, type);
      if (result.kind === 'error') return { status: 'error', error: result.error, detail: result.detail };
      const rcode = rcodeOf(result);
      if (rcode === 'SERVFAIL') {
        return {
          status: 'error',
          error: 'servfail',
          detail: `${result.server}: SERVFAIL for ${current} ${type}`,
        };
      }
      if (rcode === 'REFUSED') {
        return {
          status: 'error',
          error: 'refused',
          detail: `${result.server}: REFUSED for ${current} ${type}`,
        };
      }
      if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') {
        return {
          status: 'error',
          error: 'servfail',
          detail: `${result.server}: ${rcode} for ${current} ${type}`,
        };
      }
      const answers = (result.packet.answers ?? []).slice(0, MAX_RECORDS);
      let target = current;
      if (type !== 'CNAME') {
        for (;;) {
          const alias = answers.find((a) => a.type === 'CNAME' && normalizeName(a.name) === target);
          if (alias?.type !== 'CNAME' || typeof alias.data !== 'string') break;
          const next = normalizeName(alias.data);
          if (visited.has(next)) {
            return { status: 'error', error: 'malformed', detail: `CNAME loop at ${next} (from ${start})` };
          }
          if (chain.length >= MAX_CNAME_HOPS) {
            return {
              status: 'error',
              error: 'malformed',
              detail: `more than ${MAX_CNAME_HOPS} CNAMEs from ${start}`,
            };
          }
          visited.add(next);
          chain.push(next);
          target = next;
        }
      }
      const records = answers.filter((a) => a.type === type && normalizeName(a.name) === target);
      if (records.length > 0) {
        const ttls = records.map((r) => ('ttl' in r && typeof r.ttl === 'number' ? r.ttl : 0));
        return { status: 'ok', records, cnameChain: chain, ttl: Math.min(...ttls) };
      }
      if (rcode === 'NXDOMAIN') return { status: 'nxdomain', cnameChain: chain };
      if (target === current) return { status: 'nodata', cnameChain: chain };
      // Only the alias came back. A negative answer for the target carries the target zone's
      // SOA; without one, the server was not authoritative for the target: ask for it.
      const soaCoversTarget = (result.packet.authorities ?? []).some((a) => {
        const owner = normalizeName(a.name);
        return a.type === 'SOA' && (target === owner || target.endsWith(`.${owner}`));
      });
      if (soaCoversTarget) return { status: 'nodata', cnameChain: chain };
      current = target;
    }
    return {
      status: 'error',
      error: 'malformed',
      detail: `more than ${MAX_CNAME_HOPS} CNAMEs from ${start}`,
    };
  }

  function mapAnswer<T>(
    answer: DnsAnswer<RawAnswer>,
    convert: (r: RawAnswer) => T | undefined,
  ): DnsAnswer<T> {
    if (answer.status !== 'ok') return answer;
    const records: T[] = [];
    for (const r of answer.records) {
      const v = convert(r);
      if (v !== undefined) records.push(v);
    }
    if (records.length === 0) {
      return { status: 'error', error: 'malformed', detail: 'answer records could not be decoded' };
    }
    return {
      status: 'ok',
      records,
      cnameChain: answer.cnameChain,
      ...(answer.ttl !== undefined ? { ttl: answer.ttl } : {}),
    };
  }

  const decoder = new TextDecoder('utf-8');
  const asString = (r: RawAnswer): string | undefined =>
    r.type === 'CNAME' && typeof r.data === 'string' ? normalizeName(r.data) : undefined;

  return {
    async txt(name) {
      return mapAnswer(await lookup(name, 'TXT'), (r) => {
        if (r.type !== 'TXT') return undefined;
        const data = Array.isArray(r.data) ? r.data : [r.data];
        return data.map((part) => (typeof part === 'string' ? part : decoder.decode(part)));
      });
    },
    async mx(name) {
      return mapAnswer(await lookup(name, 'MX'), (r): MxRecord | undefined =>
        r.type === 'MX'
          ? { exchange: normalizeName(r.data.exchange), priority: r.data.preference ?? 0 }
          : undefined,
      );
    },
    async a(name) {
      return mapAnswer(await lookup(name, 'A'), (r) => (r.type === 'A' ? r.data : undefined));
    },
    async aaaa(name) {
      return mapAnswer(await lookup(name, 'AAAA'), (r) => (r.type === 'AAAA' ? r.data : undefined));
    },
    async cname(name) {
      return mapAnswer(await lookup(name, 'CNAME'), asString);
    },
  };
}
