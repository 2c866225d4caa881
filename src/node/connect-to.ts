// curl's --connect-to HOST:PORT:ADDR:PORT: re-route a connection without changing the name
// used for SNI and certificate checks (so the production path runs against the simulator).
import net from 'node:net';
import type { ConnectTo } from '../ports.js';

export class ConnectToError extends Error {
  readonly code = 'invalid-connect-to';
  constructor(message: string) {
    super(message);
    this.name = 'ConnectToError';
  }
}

/** Split off one `host` or `[ipv6]` field followed by ':' from the front of `rest`. */
function takeHostField(rest: string, spec: string, what: string): [string, string] {
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new ConnectToError(`--connect-to "${spec}": ${what} has "[" without "]"`);
    const inner = rest.slice(1, close);
    if (!net.isIPv6(inner))
      throw new ConnectToError(`--connect-to "${spec}": ${what} "[${inner}]" is not an IPv6 address`);
    if (rest[close + 1] !== ':')
      throw new ConnectToError(`--connect-to "${spec}": expected ":" after "[${inner}]"`);
    return [inner, rest.slice(close + 2)];
  }
  const colon = rest.indexOf(':');
  if (colon < 0) throw new ConnectToError(`--connect-to "${spec}": expected HOST:PORT:ADDR:PORT`);
  return [rest.slice(0, colon), rest.slice(colon + 1)];
}

function parsePort(text: string, spec: string, what: string, allowEmpty: boolean): number {
  if (text === '' && allowEmpty) return 0;
  if (!/^\d{1,5}$/.test(text))
    throw new ConnectToError(`--connect-to "${spec}": ${what} "${text}" is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535)
    throw new ConnectToError(`--connect-to "${spec}": ${what} ${n} is not between 1 and 65535`);
  return n;
}

const HOST_RE = /^[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;

/**
 * Parse `HOST:PORT:ADDR:PORT` (IPv6 in brackets). As in curl, HOST or the first PORT may be
 * empty to match any host (host '') or any port (port 0). ADDR may be a name or an address.
 */
export function parseConnectTo(spec: string): ConnectTo {
  const [host, afterHost] = takeHostField(spec.trim(), spec, 'HOST');
  const colon = afterHost.indexOf(':');
  if (colon < 0) throw new ConnectToError(`--connect-to "${spec}": expected HOST:PORT:ADDR:PORT`);
  const port = parsePort(afterHost.slice(0, colon), spec, 'PORT', true);
  const [toAddress, toPortText] = takeHostField(afterHost.slice(colon + 1), spec, 'ADDR');
  if (toAddress === '') throw new ConnectToError(`--connect-to "${spec}": ADDR is empty`);
  if (host !== '' && net.isIP(host) === 0 && !HOST_RE.test(host)) {
    throw new ConnectToError(`--connect-to "${spec}": HOST "${host}" is not a host name or address`);
  }
  if (net.isIP(toAddress) === 0 && !HOST_RE.test(toAddress)) {
    throw new ConnectToError(`--connect-to "${spec}": ADDR "${toAddress}" is not a host name or address`);
  }
  const toPort = parsePort(toPortText, spec, 'second PORT', false);
  return { host: host.toLowerCase().replace(/\.$/, ''), port, toAddress, toPort };
}

export function formatConnectTo(entry: ConnectTo): string {
  const bracket = (h: string): string => (net.isIPv6(h) ? `[${h}]` : h);
  const port = entry.port === 0 ? '' : String(entry.port);
  return `${bracket(entry.host)}:${port}:${bracket(entry.toAddress)}:${entry.toPort}`;
}

export interface ConnectTarget {
  address: string;
  port: number;
  /** The entry that re-routed the connection, if any. */
  via?: ConnectTo;
}

/**
 * Where to connect for (host, address, port): an entry matching the resolved address wins,
 * then one matching the host name (case-insensitive), then a wildcard host; else unchanged.
 */
export function resolveConnectTarget(
  list: readonly ConnectTo[] | undefined,
  host: string,
  address: string,
  port: number,
): ConnectTarget {
  if (!list || list.length === 0) return { address, port };
  const portMatches = (e: ConnectTo): boolean => e.port === 0 || e.port === port;
  const name = host.toLowerCase().replace(/\.$/, '');
  const addr = address.toLowerCase();
  const byAddress = list.find((e) => portMatches(e) && e.host !== '' && e.host.toLowerCase() === addr);
  const byHost = list.find((e) => portMatches(e) && e.host !== '' && e.host === name);
  const any = list.find((e) => portMatches(e) && e.host === '');
  const via = byAddress ?? byHost ?? any;
  return via ? { address: via.toAddress, port: via.toPort, via } : { address, port };
}
