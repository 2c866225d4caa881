// The resolver daemon: wires configuration, network adapters, the cache store, the
// socketmap listener, metrics, periodic eviction and proactive refresh together.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CachedPolicy, CacheRules, PolicyCacheEntry } from '../core/policy-cache.js';
import { isEvictable, policyExpiresAt } from '../core/policy-cache.js';
import { formatPolicyReply, NOTFOUND_REPLY, socketmapKeyToDomain } from '../core/socketmap.js';
import { parseConnectTo } from '../node/connect-to.js';
import { createDnsResolver } from '../node/dns.js';
import { createPolicyFetcher } from '../node/policy-fetch.js';
import { type Clock, type Logger, type PolicyCacheStore, systemClock } from '../ports.js';
import { type ResolverConfig, type ZoneConfig, zoneFor } from './config.js';
import { ResolverMetrics } from './metrics.js';
import { PolicyResolver, type Resolution, type ResolverNetwork } from './policy-resolver.js';
import { type SocketmapListen, type SocketmapServer, startSocketmapServer } from './socketmap-server.js';
import { MemoryPolicyStore } from './stores/memory.js';
import { RedisPolicyStore } from './stores/redis.js';
import { SqlitePolicyStore } from './stores/sqlite.js';

export const SWEEP_INTERVAL_MS = 60_000;

export function cacheRulesFrom(config: ResolverConfig): CacheRules {
  return {
    graceMs: config.cacheGrace * 1000,
    negativeTtlMs: config.negativeCacheTtl * 1000,
    fetchRetryMs: config.fetchRetry * 1000,
    dnsRetryMs: Math.min(config.cacheGrace, config.fetchRetry) * 1000,
  };
}

/** The network adapters for one time limit (seconds), made once and reused. */
export function networkFactory(config: ResolverConfig): (timeoutSec: number) => ResolverNetwork {
  const caPem = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  const connectTo = config.connectTo.map(parseConnectTo);
  const made = new Map<number, ResolverNetwork>();
  return (timeoutSec) => {
    let net = made.get(timeoutSec);
    if (!net) {
      const dns = createDnsResolver({
        ...(config.resolver ? { servers: config.resolver } : {}),
        timeoutMs: Math.max(100, Math.min(2000, (timeoutSec * 1000) / 2)),
        tries: 2,
      });
      const fetcher = createPolicyFetcher({
        dns,
        ...(caPem ? { caPem } : {}),
        useSystemCa: true,
        connectTo,
        timeoutMs: timeoutSec * 1000,
        userAgent: 'mta-sts-kit/0.1 (resolver)',
      });
      net = { dns, fetcher };
      made.set(timeoutSec, net);
    }
    return net;
  };
}

export function openStore(config: ResolverConfig, rules: CacheRules, logger: Logger): PolicyCacheStore {
  const c = config.cache;
  if (c.type === 'internal') return new MemoryPolicyStore(c.cacheSize);
  if (c.type === 'sqlite') {
    try {
      mkdirSync(dirname(c.filename), { recursive: true });
      const store = new SqlitePolicyStore({ filename: c.filename, timeout: c.timeout });
      if (store.skippedRows > 0) logger.warn({ rows: store.skippedRows }, 'unreadable cache rows skipped');
      return store;
    } catch (err) {
      // A cache that cannot persist still protects mail; refusing to start would not.
      logger.error(
        { file: c.filename, err: (err as Error).message },
        'cannot open the SQLite cache; using an in-memory cache',
      );
      return new MemoryPolicyStore(100_000);
    }
  }
  return new RedisPolicyStore({
    ...(c.url ? { url: c.url } : {}),
    options: c.options,
    ttlMs: (entry: PolicyCacheEntry) => {
      const now = Date.now();
      const until = Math.max(
        entry.policy ? policyExpiresAt(entry.policy) : 0,
        entry.absent ? entry.checkedAt + rules.negativeTtlMs : 0,
        entry.failure ? entry.failure.retryAt : 0,
      );
      return isEvictable(entry, now, rules) ? 1000 : until - now;
    },
  });
}

function lookupId(file: string, name: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined) return Number(f[2]);
    }
  } catch {
    // No such database.
  }
  return undefined;
}

function resolveOwner(value: string | number | undefined, file: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const id = lookupId(file, value);
  if (id === undefined) throw new Error(`${what} "${value}" not found in ${file}`);
  return id;
}

export function listenFrom(config: ResolverConfig): SocketmapListen {
  if (config.path) {
    return {
      path: config.path,
      ...(config.mode !== undefined ? { mode: config.mode } : {}),
      ...(config.owner !== undefined ? { uid: resolveOwner(config.owner, '/etc/passwd', 'owner')! } : {}),
      ...(config.group !== undefined ? { gid: resolveOwner(config.group, '/etc/group', 'group')! } : {}),
    };
  }
  return { host: config.host, port: config.port, reusePort: config.reusePort };
}

/** Replies are computed once per cached policy and zone settings. */
class ReplyCache {
  private readonly cache = new WeakMap<CachedPolicy, Map<string, string>>();
  reply(domain: string, policy: CachedPolicy | undefined, zone: ZoneConfig): string {
    if (!policy) return NOTFOUND_REPLY;
    const key = `${zone.strictTesting ? 1 : 0}${zone.requireSni ? 1 : 0}${zone.tlsrpt ? 1 : 0}`;
    let perZone = this.cache.get(policy);
    if (!perZone) {
      perZone = new Map();
      this.cache.set(policy, perZone);
    }
    let r = perZone.get(key);
    if (r === undefined) {
      r = formatPolicyReply(domain, policy, zone);
      perZone.set(key, r);
    }
    return r;
  }
}

/** Tell systemd we are ready (sd_notify through systemd-notify; the unit needs NotifyAccess=all). */
export function notifySystemd(state: string, logger: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  const child = spawn('systemd-notify', [`--pid=${process.pid}`, state], { stdio: 'ignore' });
  child.on('error', (err) => logger.warn({ err: err.message }, 'cannot notify systemd'));
}

export interface ResolverDaemon {
  server: SocketmapServer;
  resolver: PolicyResolver;
  metrics: ResolverMetrics;
  metricsPort?: number;
  close(): Promise<void>;
}

export interface StartResolverOptions {
  logger: Logger;
  clock?: Clock;
  /** Replace the network adapters (tests). */
  network?: (timeoutSec: number) => ResolverNetwork;
  store?: PolicyCacheStore;
}

export async function startResolverDaemon(
  config: ResolverConfig,
  options: StartResolverOptions,
): Promise<ResolverDaemon> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const rules = cacheRulesFrom(config);
  const metrics = new ResolverMetrics();
  const store = options.store ?? openStore(config, rules, logger);
  const events = metrics.events();
  const resolver = new PolicyResolver({
    network: options.network ?? networkFactory(config),
    store,
    clock,
    rules,
    events: {
      ...events,
      storeError: (err) => logger.warn({ err: (err as Error)?.message }, 'cache store error'),
    },
  });
  const replies = new ReplyCache();

  const answer = (domain: string, res: Resolution, zone: ZoneConfig, started: number): string => {
    const reply = replies.reply(domain, res.policy, zone);
    metrics.lookup(reply === NOTFOUND_REPLY ? 'notfound' : 'secure', (performance.now() - started) / 1000);
    if (res.failure)
      logger.info({ domain, failure: res.failure, cached: res.policy !== undefined }, 'lookup problem');
    return reply;
  };

  const server = await startSocketmapServer({
    listen: listenFrom(config),
    idleTimeoutMs: config.idleTimeout * 1000,
    logger,
    handle: (request) => {
      const started = performance.now();
      if (!request) {
        metrics.lookup('invalid', 0);
        return NOTFOUND_REPLY;
      }
      const domain = socketmapKeyToDomain(request.key);
      if (!domain) {
        metrics.lookup('notfound', (performance.now() - started) / 1000);
        return NOTFOUND_REPLY;
      }
      const zone = zoneFor(config, request.name);
      const hit = resolver.peek(domain);
      if (hit) return answer(domain, hit, zone, started);
      return resolver.resolve(domain, zone.timeout).then(
        (res) => answer(domain, res, zone, started),
        (err: unknown) => {
          metrics.lookup('error', (performance.now() - started) / 1000);
          logger.error({ domain, err: (err as Error)?.message }, 'lookup failed');
          return NOTFOUND_REPLY;
        },
      );
    },
  });

  let metricsServer: { port: number; close(): Promise<void> } | undefined;
  if (config.metrics) metricsServer = await metrics.listen(config.metrics.host, config.metrics.port);

  const timers: NodeJS.Timeout[] = [];
  let sweeping = false;
  timers.push(
    setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      resolver
        .evictExpired()
        .then((n) => n > 0 && logger.debug({ evicted: n }, 'expired cache entries evicted'))
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'eviction failed'))
        .finally(() => {
          sweeping = false;
        });
    }, SWEEP_INTERVAL_MS),
  );
  if (config.proactive.enabled) {
    let refreshing = false;
    const run = (): void => {
      if (refreshing) return;
      refreshing = true;
      resolver
        .refreshDue(
          { intervalMs: config.proactive.interval * 1000, graceRatio: config.proactive.graceRatio },
          config.proactive.concurrencyLimit,
          config.defaultZone.timeout,
        )
        .then((n) => logger.info({ refreshed: n }, 'proactive policy refresh done'))
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'proactive refresh failed'))
        .finally(() => {
          refreshing = false;
        });
    };
    timers.push(setInterval(run, config.proactive.interval * 1000));
    setTimeout(run, 1000).unref();
  }
  for (const t of timers) t.unref();

  logger.info(
    {
      listen: server.address,
      cache: config.cache.type,
      metrics: metricsServer ? `${config.metrics!.host}:${metricsServer.port}` : undefined,
    },
    'mta-sts resolver listening',
  );
  notifySystemd('--ready', logger);

  return {
    server,
    resolver,
    metrics,
    ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
    close: async () => {
      for (const t of timers) clearInterval(t);
      await server.close(config.shutdownTimeout * 1000);
      await metricsServer?.close();
      await store.close();
    },
  };
}
