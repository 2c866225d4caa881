// The live-status page's data: the latest `mta-sts check` of every configured domain, run on
// demand and on a schedule. One run at a time; a request during a run joins it.
import type { CheckReport } from '../../check/check-domain.js';
import type { Logger } from '../../ports.js';

export interface LiveCheckEntry {
  domain: string;
  report?: CheckReport;
  error?: string;
}

export class LiveStatus {
  private readonly results = new Map<string, LiveCheckEntry>();
  private current: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  lastRunAt: string | undefined;

  constructor(
    private readonly check: (domains: string[]) => Promise<CheckReport[]>,
    private readonly domains: () => string[],
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  entries(): LiveCheckEntry[] {
    return this.domains().map((d) => this.results.get(d) ?? { domain: d });
  }

  runNow(): Promise<void> {
    if (this.current) return this.current;
    const domains = this.domains();
    this.current = (async () => {
      try {
        const reports = await this.check(domains);
        for (const r of reports) this.results.set(r.domain, { domain: r.domain, report: r });
        this.logger.info(
          {
            domains: reports.length,
            verdicts: Object.fromEntries(reports.map((r) => [r.domain, r.verdict])),
          },
          'live check done',
        );
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        for (const d of domains) this.results.set(d, { ...this.results.get(d), domain: d, error: message });
        this.logger.error({ err: message }, 'live check failed');
      } finally {
        this.lastRunAt = this.now().toISOString();
        this.current = undefined;
      }
    })();
    return this.current;
  }

  /** Run now and then every intervalMs (0: never on a schedule). */
  schedule(intervalMs: number, runAtStart = true): void {
    this.stop();
    if (runAtStart) void this.runNow();
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.runNow(), intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Wait for a run in progress (for shutdown). */
  async idle(): Promise<void> {
    await this.current;
  }
}
