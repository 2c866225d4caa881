// Prometheus metrics for the resolver, served on an optional listener at /metrics.
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ResolverEvents } from './policy-resolver.js';

export class ResolverMetrics {
  readonly registry = new Registry();
  private readonly lookups = new Counter({
    name: 'mta_sts_resolver_lookups_total',
    help: 'Socketmap lookups by result (secure, notfound, invalid, error)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly cacheHits = new Counter({
    name: 'mta_sts_resolver_cache_hits_total',
    help: 'Lookups answered from the cache, by kind (fresh, negative, backoff)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly dnsQueries = new Counter({
    name: 'mta_sts_resolver_dns_queries_total',
    help: '_mta-sts TXT lookups by outcome (found, absent, error)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly fetches = new Counter({
    name: 'mta_sts_resolver_policy_fetches_total',
    help: 'Policy fetches (HTTPS)',
    registers: [this.registry],
  });
  private readonly fetchFailures = new Counter({
    name: 'mta_sts_resolver_policy_fetch_failures_total',
    help: 'Failed policy fetches by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'mta_sts_resolver_lookup_seconds',
    help: 'Time from request to reply',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'mta_sts_resolver_connections',
    help: 'Open socketmap connections',
    registers: [this.registry],
  });

  lookup(result: string, seconds: number): void {
    this.lookups.inc({ result });
    this.latency.observe(seconds);
  }

  events(): ResolverEvents {
    return {
      cacheHit: (kind) => this.cacheHits.inc({ kind }),
      dnsQuery: (outcome) => this.dnsQueries.inc({ outcome }),
      fetch: (outcome) => {
        this.fetches.inc();
        if (outcome !== 'ok') this.fetchFailures.inc({ reason: outcome });
      },
    };
  }

  async listen(host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          },
          () => {
            res.writeHead(500);
            res.end();
          },
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return {
      port: (server.address() as { port: number }).port,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
}
