// `mta-sts serve` on Node: binds the HTTPS, plain-HTTP and dashboard listeners around the
// fetch-style handlers, picks certificates by SNI, reloads config and certificates without
// dropping connections, and stops gracefully. The CLI and `mta-sts demo` start it.
import { type FSWatcher, watch } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import type { CheckReport } from '../check/check-domain.js';
import { type CheckOptions, checkDomains } from '../check/run.js';
import type { Logger } from '../ports.js';
import { type KyselyReportStore, openReportStore } from '../reports/store.js';
import { loadConfig, type MtaStsConfig } from '../setup/config.js';
import { AcmeManager } from './acme.js';
import { type ClientHandler, createHttpHandler, createHttpsHandler } from './app.js';
import { CertificateStore, TLS_MIN_VERSION } from './cert-store.js';
import type { DashboardAuth } from './dashboard/auth.js';
import { createDashboardHandler } from './dashboard/dashboard.js';
import { LiveStatus } from './dashboard/live-status.js';
import { DashboardQueries } from './dashboard/queries.js';
import { ServeMetrics } from './metrics.js';
import { buildPolicyTable, POLICY_PATH, type PolicyTable, policyFile, requestHost } from './policy-host.js';
import { RateLimiter } from './rate-limit.js';
import { createTlsrptReceiver } from './tlsrpt-receiver.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export class ServeConfigError extends Error {
  readonly code = 'serve-config';
}

/** "ADDR:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
export function parseListenAddress(spec: string, what = 'address'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m)
    throw new ServeConfigError(`${what} must be ADDR:PORT (e.g. 0.0.0.0:443 or [::1]:8443), got "${spec}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ServeConfigError(`${what}: port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatAddress(a: { host?: string; address?: string; port: number }): string {
  const h = a.host ?? a.address ?? '';
  return h.includes(':') ? `[${h}]:${a.port}` : `${h}:${a.port}`;
}

export interface ServerLimits {
  /** Whole request headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /** A whole request must arrive within this (ms). */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** TLS handshake time limit (ms). */
  handshakeTimeoutMs: number;
  maxHeaderBytes: number;
  /** How often Node looks for connections over their time limits (ms). */
  checkIntervalMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  maxHeaderBytes: 8192,
  checkIntervalMs: 1000,
};

export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:8460';

export interface ServeOptions {
  configPath: string;
  certsDir?: string;
  listen: ListenAddress;
  httpListen?: ListenAddress;
  /** null: no dashboard. */
  dashboardListen?: ListenAddress | null;
  dbUrl: string;
  /** Where TLS reports are POSTed: https://HOST/PATH. */
  reports?: { host: string; path: string; maxBytes?: number; perMinute?: number; burst?: number };
  dashboardAuth?: DashboardAuth;
  acme?: {
    directoryUrl: string;
    email: string;
    caPem?: string;
    selfCheck?: boolean;
    /** How often renewal is considered (ms, default 12 h). */
    checkIntervalMs?: number;
  };
  /** Live checks for the status page; undefined: no live checks. */
  check?: CheckOptions & { intervalSeconds: number };
  readinessDays?: number;
  limits?: Partial<ServerLimits>;
  /** Reload on file changes in the config's and the certificates' directories (default true). */
  watch?: boolean;
  logger: Logger;
  now?: () => Date;
}

export interface RunningServe {
  https: ListenAddress;
  http?: ListenAddress;
  dashboard?: ListenAddress;
  dashboardUrl?: string;
  config(): MtaStsConfig;
  policies(): PolicyTable;
  certs: CertificateStore;
  store: KyselyReportStore;
  metrics: ServeMetrics;
  acme?: AcmeManager;
  live?: LiveStatus;
  /** Reload the config and the certificates (SIGHUP does this). */
  reload(reason?: string): Promise<void>;
  stop(): Promise<void>;
}

function listenOn(server: http.Server, a: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolveListen, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(a.port, a.host, () => {
      server.off('error', onError);
      const info = server.address() as AddressInfo;
      resolveListen({ host: info.address, port: info.port });
    });
  });
}

function nodeListener(handler: ClientHandler, logger: Logger) {
  const listener = getRequestListener(
    (req, env) => {
      const socket = (env as { incoming: http.IncomingMessage }).incoming.socket as TLSSocket;
      const servername = typeof socket.servername === 'string' ? socket.servername : undefined;
      return handler(req, {
        remoteAddress: socket.remoteAddress ?? '',
        ...(servername ? { servername } : {}),
      });
    },
    {
      errorHandler: (err) => {
        logger.error({ err: (err as Error)?.message ?? String(err) }, 'request failed');
        return new Response('internal error\n', { status: 500, headers: { 'content-type': 'text/plain' } });
      },
    },
  );
  return (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    // An HTTP/1.0 client may send no Host header; the URL needs one, and over TLS the SNI name
    // says which host was meant. An empty name never matches a served host.
    if (!incoming.headers.host) {
      const sni = (incoming.socket as TLSSocket).servername;
      incoming.headers.host = typeof sni === 'string' && sni ? sni : 'no-host.invalid';
    }
    return listener(incoming, outgoing);
  };
}

function applyLimits(server: http.Server, limits: ServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = 0;
}

async function closeServer(server: http.Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const log = options.logger;
  const now = options.now ?? (() => new Date());
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const configPath = resolve(options.configPath);

  let config = await loadConfig(configPath);
  let policies: PolicyTable = buildPolicyTable(config.domains);
  const certs = new CertificateStore(options.certsDir ? resolve(options.certsDir) : undefined, log, now);
  await certs.reload();

  const store = await openReportStore(options.dbUrl);
  const queries = new DashboardQueries(store);
  const metrics = new ServeMetrics();
  metrics.setSources({
    failedSessions: () => queries.failedSessionsByDomain(),
    certificates: () => certs.list().map((c) => ({ host: c.host, notAfter: c.notAfter })),
    now,
  });

  const acme = options.acme
    ? new AcmeManager({
        directoryUrl: options.acme.directoryUrl,
        email: options.acme.email,
        certs,
        accountKeyFile: join(certs.dir ?? resolve('.'), '.acme', 'account.key'),
        logger: log,
        ...(options.acme.caPem ? { caPem: options.acme.caPem } : {}),
        ...(options.acme.selfCheck === false ? { selfCheck: false } : {}),
        now,
      })
    : undefined;
  const certificateHosts = () => [
    ...policies.keys(),
    ...(options.reports && !policies.has(options.reports.host) ? [options.reports.host] : []),
  ];

  const receiver = options.reports
    ? {
        host: options.reports.host.toLowerCase(),
        path: options.reports.path,
        // RFC 8460 §5.4: the rua endpoint takes a POST of one report; limits per client below.
        handler: createTlsrptReceiver({
          store,
          maxBytes: options.reports.maxBytes ?? 5 * 1024 * 1024,
          now,
          onResult: (r) => {
            metrics.report(r.status, r.outcome);
            log.info(
              {
                status: r.status,
                outcome: r.outcome,
                reportId: r.reportId,
                organization: r.organization,
                reason: r.reason,
              },
              'tls report POST',
            );
          },
        }),
        rateLimiter: new RateLimiter({
          perMinute: options.reports.perMinute ?? 60,
          burst: options.reports.burst ?? 20,
        }),
      }
    : undefined;

  const publicOptions = {
    policies: () => policies,
    ...(receiver ? { receiver } : {}),
    metrics,
    ...(acme ? { acmeChallenge: (t: string) => acme.httpChallenge(t) } : {}),
  };

  const servers: http.Server[] = [];
  const stops: Array<() => void> = [];
  let live: LiveStatus | undefined;
  try {
    const noCertificate = tls.createSecureContext({ minVersion: TLS_MIN_VERSION });
    const httpsServer = https.createServer({
      minVersion: TLS_MIN_VERSION,
      // RFC 8461 §3.3: the certificate must be valid for mta-sts.<domain>: choose it by SNI, and
      // refuse the handshake (a TLS alert) for a name we hold no certificate for.
      SNICallback: (servername, cb) => {
        const ctx = certs.contextFor(servername);
        if (ctx) cb(null, ctx);
        else {
          metrics.handshakeFailure('unknown-name');
          log.debug({ servername }, 'no certificate for this name');
          // A context without a certificate: OpenSSL ends the handshake with an alert.
          cb(null, noCertificate);
        }
      },
      handshakeTimeout: limits.handshakeTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.checkIntervalMs,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    } as https.ServerOptions);
    applyLimits(httpsServer, limits);
    const generic = nodeListener(createHttpsHandler(publicOptions), log);
    httpsServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      // The hot path, without building Request/Response objects: a plain GET or HEAD of the
      // policy file. Same bytes and headers as the fetch-style handler (policyFile).
      if (req.url === POLICY_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        const host = requestHost(req.headers.host, (req.socket as TLSSocket).servername || undefined);
        const policy = host !== undefined && host !== receiver?.host ? policies.get(host) : undefined;
        if (policy) {
          const { body, headers } = policyFile(policy);
          res.writeHead(200, headers);
          res.end(req.method === 'HEAD' ? undefined : body);
          metrics.request('https', policy.host, 200);
          return;
        }
      }
      void generic(req, res);
    });
    httpsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (!socket.servername) metrics.handshakeFailure('no-sni');
      log.debug({ remote: socket.remoteAddress, err: err.message, code: err.code }, 'TLS handshake refused');
    });
    servers.push(httpsServer);
    const httpsAddress = await listenOn(httpsServer, options.listen);

    let httpAddress: ListenAddress | undefined;
    if (options.httpListen) {
      const plain = http.createServer({
        maxHeaderSize: limits.maxHeaderBytes,
        connectionsCheckingInterval: limits.checkIntervalMs,
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
      });
      applyLimits(plain, limits);
      plain.on('request', nodeListener(createHttpHandler(publicOptions), log));
      servers.push(plain);
      httpAddress = await listenOn(plain, options.httpListen);
    }

    if (options.check) {
      const checkOpts = options.check;
      live = new LiveStatus(
        (domains: string[]): Promise<CheckReport[]> => checkDomains(domains, checkOpts),
        () => config.domains.map((d) => d.domain),
        log,
        now,
      );
    }

    let dashboardAddress: ListenAddress | undefined;
    if (options.dashboardListen !== null) {
      const listenAt = options.dashboardListen ?? parseListenAddress(DEFAULT_DASHBOARD_LISTEN);
      const dash = http.createServer({
        maxHeaderSize: limits.maxHeaderBytes,
        connectionsCheckingInterval: limits.checkIntervalMs,
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
      });
      applyLimits(dash, limits);
      const handler = createDashboardHandler({
        store,
        ...(options.dashboardAuth ? { auth: options.dashboardAuth } : {}),
        domains: () => config.domains.map((d) => ({ domain: d.domain, mode: d.mode })),
        ...(live ? { live, liveIntervalSeconds: options.check?.intervalSeconds ?? 0 } : {}),
        metrics,
        ...(options.readinessDays ? { readinessDays: options.readinessDays } : {}),
        now,
        health: async () => {
          try {
            await store.db.selectFrom('tlsrpt_reports').select('id').limit(1).execute();
          } catch (err) {
            return { ok: false, detail: { database: (err as Error).message } };
          }
          const missing = certificateHosts().filter((h) => !certs.contextFor(h));
          return {
            ok: true,
            detail: {
              domains: policies.size,
              certificates: certs.list().length,
              missingCertificates: missing,
            },
          };
        },
      });
      dash.on(
        'request',
        nodeListener(async (req) => {
          const res = await handler(req);
          metrics.request('dashboard', 'dashboard', res.status);
          return res;
        }, log),
      );
      servers.push(dash);
      dashboardAddress = await listenOn(dash, listenAt);
    }

    const reload = async (reason = 'request'): Promise<void> => {
      try {
        const next = await loadConfig(configPath);
        config = next;
        policies = buildPolicyTable(next.domains);
        log.info({ reason, domains: policies.size }, 'config loaded');
      } catch (err) {
        log.error(
          { reason, err: (err as Error).message },
          'config not reloaded; still serving the previous one',
        );
      }
      const r = await certs.reload();
      log.info(
        {
          reason,
          loaded: r.loaded.length,
          kept: r.kept.length,
          failed: r.failed.length,
          removed: r.removed.length,
        },
        'certificates reloaded',
      );
      if (acme) void acme.ensure(certificateHosts());
    };

    if (options.watch !== false) {
      // Editors replace files (write a new one, rename over): watch the directories, not the files.
      let pending: NodeJS.Timeout | undefined;
      const kick = (what: string) => {
        if (pending) clearTimeout(pending);
        pending = setTimeout(() => void reload(`${what} changed`), 200);
      };
      const watchers: FSWatcher[] = [];
      const configName = basename(configPath);
      try {
        watchers.push(
          watch(dirname(configPath), (_e, name) => {
            if (name === configName) kick('config');
          }),
        );
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot watch the config file; reload with SIGHUP');
      }
      if (certs.dir) {
        try {
          watchers.push(
            watch(certs.dir, (_e, name) => {
              if (name && /\.(pem|key)$/.test(name)) kick('certificates');
            }),
          );
        } catch (err) {
          log.warn(
            { err: (err as Error).message },
            'cannot watch the certificate directory; reload with SIGHUP',
          );
        }
      }
      for (const w of watchers) w.on('error', () => {});
      stops.push(() => {
        if (pending) clearTimeout(pending);
        for (const w of watchers) w.close();
      });
    }

    if (acme) {
      void acme.ensure(certificateHosts());
      acme.schedule(certificateHosts, options.acme?.checkIntervalMs ?? 12 * 3600_000);
      stops.push(() => acme.stop());
    }
    if (live) {
      live.schedule((options.check?.intervalSeconds ?? 0) * 1000, true);
      stops.push(() => live?.stop());
    }

    const missing = certificateHosts().filter((h) => !certs.contextFor(h));
    log.info(
      {
        https: formatAddress(httpsAddress),
        ...(httpAddress ? { http: formatAddress(httpAddress) } : {}),
        ...(dashboardAddress ? { dashboard: formatAddress(dashboardAddress) } : {}),
        domains: policies.size,
        certificates: certs.list().length,
        ...(missing.length ? { missingCertificates: missing } : {}),
        ...(receiver ? { reports: `https://${receiver.host}${receiver.path}` } : {}),
      },
      'serving',
    );

    let stopped = false;
    return {
      https: httpsAddress,
      ...(httpAddress ? { http: httpAddress } : {}),
      ...(dashboardAddress
        ? {
            dashboard: dashboardAddress,
            dashboardUrl: `http://${formatAddress(
              dashboardAddress.host === '0.0.0.0'
                ? { ...dashboardAddress, host: '127.0.0.1' }
                : dashboardAddress.host === '::'
                  ? { ...dashboardAddress, host: '::1' }
                  : dashboardAddress,
            )}/`,
          }
        : {}),
      config: () => config,
      policies: () => policies,
      certs,
      store,
      metrics,
      ...(acme ? { acme } : {}),
      ...(live ? { live } : {}),
      reload,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const s of stops) s();
        await Promise.all(servers.map((s) => closeServer(s, 5000)));
        await Promise.all([live?.idle(), acme?.idle()]);
        await store.close();
        log.info({}, 'stopped');
      },
    };
  } catch (err) {
    for (const s of stops) s();
    await Promise.all(servers.map((s) => closeServer(s, 0)));
    await store.close();
    throw err;
  }
}
