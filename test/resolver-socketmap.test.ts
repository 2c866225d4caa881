// The daemon over real sockets against simulated domains: the reference request/reply table
// over TCP and a unix socket at several read sizes, pipelining, limits and bad clients.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { encodeNetstring } from '../src/core/socketmap.js';
import { formatConnectTo } from '../src/node/connect-to.js';
import { readResolverConfig } from '../src/resolver/config.js';
import { type ResolverDaemon, startResolverDaemon } from '../src/resolver/daemon.js';
import { startSocketmapServer } from '../src/resolver/socketmap-server.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { socketmapExchange } from './helpers/postfix.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fixture = parseYaml(
  await readFile(new URL('./fixtures/resolver-reference.yaml', import.meta.url), 'utf8'),
) as {
  scenario: unknown;
  cases: [string, string][];
};

let sim: Simulation;
let tcp: ResolverDaemon;
let unix: ResolverDaemon;
let dir: string;

function configFor(sim: Simulation, extra: Record<string, unknown>) {
  return readResolverConfig({
    resolver: [`${sim.dns.address}:${sim.dns.port}`],
    ca_file: sim.caFile,
    connect_to: sim.connectTo.map(formatConnectTo),
    cache: { type: 'internal' },
    zones: { strict: { strict_testing: true }, nosni: { require_sni: false }, rpt: { tlsrpt: true } },
    ...extra,
  }).config;
}

beforeAll(async () => {
  sim = await startSimulation(fixture.scenario as never);
  dir = await mkdtemp(join(tmpdir(), 'resolver-test-'));
  tcp = await startResolverDaemon(configFor(sim, { host: '127.0.0.1', port: 0 }), { logger: quiet });
  unix = await startResolverDaemon(configFor(sim, { path: join(dir, 'sock'), mode: 0o660 }), {
    logger: quiet,
  });
}, 30_000);

afterAll(async () => {
  await tcp?.close();
  await unix?.close();
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('reference table', () => {
  const requests = fixture.cases.map((c) => c[0]);
  const expected = fixture.cases.map((c) => c[1]);
  for (const chunk of [4096, 128, 16, 1]) {
    it(`over TCP, written ${chunk} bytes at a time`, async () => {
      const replies = await socketmapExchange({ host: '127.0.0.1', port: tcp.server.port! }, requests, chunk);
      expect(replies.map((r, i) => [requests[i], r])).toEqual(fixture.cases);
    });
    it(`over a unix socket, written ${chunk} bytes at a time`, async () => {
      const replies = await socketmapExchange({ path: unix.server.address }, requests, chunk);
      expect(replies).toEqual(expected);
    });
  }
  it('sets the unix socket mode', async () => {
    expect((await stat(unix.server.address)).mode & 0o777).toBe(0o660);
  });
});

describe('caching through the daemon', () => {
  it('"no policy" answers are cached: the second lookup asks DNS nothing', async () => {
    const count = async () => {
      const m = await tcp.metrics.registry.getSingleMetricAsString('mta_sts_resolver_dns_queries_total');
      return [...m.matchAll(/ (\d+)$/gm)].reduce((s, x) => s + Number(x[1]), 0);
    };
    const target = { host: '127.0.0.1', port: tcp.server.port! };
    await socketmapExchange(target, ['postfix fresh-nothing.test']);
    const before = await count();
    expect(await socketmapExchange(target, ['postfix fresh-nothing.test'])).toEqual(['NOTFOUND ']);
    expect(await count()).toBe(before);
  });
});

describe('connection handling', () => {
  it('answers many pipelined requests in order', async () => {
    const requests = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? 'postfix good.test' : i % 3 === 1 ? 'postfix no-record.test' : 'strict testing.test',
    );
    const replies = await socketmapExchange({ host: '127.0.0.1', port: tcp.server.port! }, requests, 4096);
    expect(replies).toHaveLength(300);
    replies.forEach((r, i) => {
      expect(r.startsWith(i % 3 === 1 ? 'NOTFOUND' : 'OK secure')).toBe(true);
    });
  });

  async function closedByServer(wire: string | Buffer): Promise<boolean> {
    const s = net.connect(tcp.server.port!, '127.0.0.1');
    s.on('error', () => {});
    s.resume();
    return new Promise((resolve) => {
      s.on('close', () => resolve(true));
      s.on('connect', () => s.write(wire));
    });
  }

  it('a malformed netstring closes that connection only', async () => {
    const other = socketmapExchange({ host: '127.0.0.1', port: tcp.server.port! }, ['postfix good.test']);
    expect(await closedByServer('5:hello;')).toBe(true);
    expect(await closedByServer('hello')).toBe(true);
    expect(await other).toEqual(['OK secure match=mail.good.test servername=hostname']);
  });

  it('an oversized request closes the connection', async () => {
    expect(await closedByServer(`2000:${'a'.repeat(2000)},`)).toBe(true);
    expect(await closedByServer('9'.repeat(100))).toBe(true);
    const replies = await socketmapExchange({ host: '127.0.0.1', port: tcp.server.port! }, [
      'postfix good.test',
    ]);
    expect(replies).toHaveLength(1);
  });

  it('closes idle connections', async () => {
    const server = await startSocketmapServer({
      listen: { host: '127.0.0.1', port: 0 },
      idleTimeoutMs: 50,
      handle: () => 'NOTFOUND ',
    });
    const s = net.connect(server.port!, '127.0.0.1');
    s.resume();
    const closed = new Promise<boolean>((resolve) => s.on('close', () => resolve(true)));
    s.write(encodeNetstring('postfix x.test'));
    expect(await closed).toBe(true);
    await server.close(100);
  });

  it('drains open requests on close, then ends the connection', async () => {
    let release: (v: string) => void = () => {};
    let arrived: () => void = () => {};
    const received = new Promise<void>((r) => {
      arrived = r;
    });
    const server = await startSocketmapServer({
      listen: { host: '127.0.0.1', port: 0 },
      handle: () =>
        new Promise<string>((r) => {
          release = r;
          arrived();
        }),
    });
    const pending = socketmapExchange({ host: '127.0.0.1', port: server.port! }, ['postfix slow.test']);
    await received;
    const closing = server.close(10_000);
    release('OK secure match=mx.slow.test');
    expect(await pending).toEqual(['OK secure match=mx.slow.test']);
    await closing;
  });

  it('keeps at most maxPipeline lookups in flight even when one read carries thousands', async () => {
    let inFlight = 0;
    let most = 0;
    const server = await startSocketmapServer({
      listen: { host: '127.0.0.1', port: 0 },
      maxPipeline: 128,
      handle: (req) => {
        inFlight++;
        most = Math.max(most, inFlight);
        return new Promise<string>((r) =>
          setImmediate(() => {
            inFlight--;
            r(`OK ${req?.key ?? '?'}`);
          }),
        );
      },
    });
    const keys = Array.from({ length: 3000 }, (_, i) => `d${i}.test`);
    const replies = await socketmapExchange(
      { host: '127.0.0.1', port: server.port! },
      keys.map((k) => `postfix ${k}`),
      1 << 20,
    );
    expect(replies).toEqual(keys.map((k) => `OK ${k}`));
    expect(most).toBeLessThanOrEqual(128);
    expect(most).toBeGreaterThan(1);
    await server.close(100);
  });

  it('survives many concurrent connections', async () => {
    const target = { host: '127.0.0.1', port: tcp.server.port! };
    const all = await Promise.all(
      Array.from({ length: 200 }, () => socketmapExchange(target, ['postfix good.test'])),
    );
    expect(all.every((r) => r[0]?.startsWith('OK secure'))).toBe(true);
  });
});
