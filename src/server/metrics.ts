// Prometheus metrics of `mta-sts serve`, in a registry of its own (several servers may run in
// one process, as in tests). Figures that live in the report store are read at scrape time.
import { Counter, Gauge, Registry } from 'prom-client';
import { daysUntil } from './renewal.js';

export interface MetricsSources {
  /** Failed sessions by policy domain and result type, from the ingested reports. */
  failedSessions?: () => Promise<Array<{ domain: string; resultType: string; failed: number }>>;
  /** The certificates being served. */
  certificates?: () => Array<{ host: string; notAfter: Date }>;
  now?: () => Date;
}

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'listener' | 'host' | 'status'>;
  private readonly received: Counter<'outcome'>;
  private readonly rejected: Counter<'reason'>;
  private readonly handshakes: Counter<'result'>;
  private sources: MetricsSources = {};

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'mta_sts_serve_http_requests_total',
      help: 'HTTP requests by listener (https, http, dashboard), host and status',
      labelNames: ['listener', 'host', 'status'],
      registers,
    });
    this.received = new Counter({
      name: 'mta_sts_serve_reports_received_total',
      help: 'TLS reports received over HTTPS and stored, by outcome (ingested, duplicate)',
      labelNames: ['outcome'],
      registers,
    });
    this.rejected = new Counter({
      name: 'mta_sts_serve_reports_rejected_total',
      help: 'TLS report POSTs refused, by reason (invalid, too-large, media-type, method, rate-limited, error)',
      labelNames: ['reason'],
      registers,
    });
    this.handshakes = new Counter({
      name: 'mta_sts_serve_tls_handshake_failures_total',
      help: 'TLS handshakes refused, by result (unknown-name, no-sni, error)',
      labelNames: ['result'],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'mta_sts_serve_failed_sessions',
      help: 'Failed sessions reported in ingested TLS reports, by policy domain and RFC 8460 result type',
      labelNames: ['domain', 'result_type'],
      registers,
      async collect() {
        this.reset();
        const rows = (await self.sources.failedSessions?.()) ?? [];
        for (const r of rows) this.set({ domain: r.domain, result_type: r.resultType }, r.failed);
      },
    });
    new Gauge({
      name: 'mta_sts_serve_certificate_expiry_days',
      help: 'Whole days until each served certificate expires (negative once expired)',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        const now = self.sources.now?.() ?? new Date();
        for (const c of self.sources.certificates?.() ?? [])
          this.set({ host: c.host }, daysUntil(c.notAfter, now));
      },
    });
  }

  setSources(sources: MetricsSources): void {
    this.sources = sources;
  }

  private readonly requestChildren = new Map<string, { inc(): void }>();

  request(listener: string, host: string, status: number): void {
    // Cache the labelled child: the label lookup costs more than the increment.
    const key = `${listener}\u0000${host}\u0000${status}`;
    let child = this.requestChildren.get(key);
    if (!child) {
      child = this.requests.labels({ listener, host, status: String(status) });
      this.requestChildren.set(key, child);
    }
    child.inc();
  }

  report(status: number, outcome: string): void {
    if (outcome === 'ingested' || outcome === 'duplicate') this.received.inc({ outcome });
    else this.rejected.inc({ reason: outcome });
    void status;
  }

  handshakeFailure(result: string): void {
    this.handshakes.inc({ result });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
