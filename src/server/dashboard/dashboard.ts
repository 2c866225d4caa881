// The dashboard as one fetch-style handler: overview, failures, reports, one report, live
// status, /healthz and /metrics. Every page needs credentials when any are configured.
import type { KyselyReportStore } from '../../reports/store.js';
import { htmlResponse, type SafeHtml } from '../html.js';
import type { ServeMetrics } from '../metrics.js';
import {
  authConfigured,
  checkCredentials,
  type DashboardAuth,
  isAuthorized,
  SESSION_COOKIE,
  SESSION_SECONDS,
  signSession,
} from './auth.js';
import type { LiveStatus } from './live-status.js';
import { addDays, buildOverview, isoDay } from './overview-model.js';
import {
  errorPage,
  failuresPage,
  loginPage,
  overviewPage,
  reportPage,
  reportsPage,
  statusPage,
} from './pages.js';
import { DashboardQueries, type FailureFilter } from './queries.js';
import { DASHBOARD_CSS } from './style.js';

export interface DashboardOptions {
  store: KyselyReportStore;
  auth?: DashboardAuth;
  /** The configured domains with their current mode (read per request: config reloads). */
  domains: () => ReadonlyArray<{ domain: string; mode: string }>;
  live?: LiveStatus;
  liveIntervalSeconds?: number;
  metrics?: ServeMetrics;
  /** Days without failures before enforce looks safe (default 14). */
  readinessDays?: number;
  now?: () => Date;
  /** Report whether the process is healthy (e.g. listeners up). */
  health?: () => Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form POSTs,
  // and the origin check below needs the real one.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const RESULT_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const MAX_FORM_BYTES = 4096;

function page(body: SafeHtml, status = 200, headers: Record<string, string> = {}): Response {
  return htmlResponse(body, status, { ...SECURITY_HEADERS, ...headers });
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { location, ...SECURITY_HEADERS, ...headers } });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS, ...headers },
  });
}

/** Only same-site relative paths are followed after login (no open redirect). */
function safeNext(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  return next.slice(0, 1000);
}

async function readForm(req: Request): Promise<URLSearchParams | undefined> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > MAX_FORM_BYTES) return undefined;
  const body = await req.arrayBuffer();
  if (body.byteLength > MAX_FORM_BYTES) return undefined;
  return new URLSearchParams(Buffer.from(body).toString('utf8'));
}

/** POSTs from a browser must come from the dashboard itself (with SameSite=Strict cookies, belt and braces). */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (!origin || origin === 'null') return origin !== 'null';
  try {
    return new URL(origin).host === new URL(req.url).host;
  } catch {
    return false;
  }
}

export function createDashboardHandler(options: DashboardOptions): (req: Request) => Promise<Response> {
  const queries = new DashboardQueries(options.store);
  const now = options.now ?? (() => new Date());
  const readinessDays = options.readinessDays ?? 14;
  const auth = options.auth;
  const protectedMode = authConfigured(auth);

  const overview = async (url: URL, loggedIn: boolean) => {
    const daysParam = Number(url.searchParams.get('days') ?? '30');
    const days = [7, 14, 30, 90, 365].includes(daysParam) ? daysParam : 30;
    const until = isoDay(now());
    const since = addDays(until, -(days - 1));
    const readinessSince = addDays(until, -readinessDays);
    // ISO dates compare as strings.
    // biome-ignore lint/complexity/useMathMinMax: strings, not numbers
    const earliest = since < readinessSince ? since : readinessSince;
    const [rows, firstDays, reportedModes, count] = await Promise.all([
      queries.daily(earliest, until),
      queries.firstDays(),
      queries.reportedModes(),
      options.store.db
        .selectFrom('tlsrpt_reports')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ]);
    const domains = buildOverview({
      rows: rows.filter((r) => r.day >= since),
      readinessRows: rows,
      since,
      until,
      configured: options.domains(),
      reportedModes,
      firstDays,
      readinessDays,
    });
    return page(
      overviewPage({
        domains,
        since,
        until,
        days,
        readinessDays,
        reportsTotal: Number(count?.n ?? 0),
        loggedIn,
      }),
    );
  };

  const failures = async (url: URL, loggedIn: boolean) => {
    const p = url.searchParams;
    const notices: string[] = [];
    const filter: FailureFilter = {};
    const domain = (p.get('domain') ?? '').trim().toLowerCase();
    if (domain) {
      if (domain.length <= 253) filter.domain = domain.replace(/\.$/, '');
      else notices.push('domain filter ignored: too long');
    }
    for (const key of ['since', 'until'] as const) {
      const v = p.get(key) ?? '';
      if (!v) continue;
      if (DAY_RE.test(v) && !Number.isNaN(Date.parse(v))) filter[key] = v;
      else notices.push(`"${key}" ignored: not a date (YYYY-MM-DD)`);
    }
    const result = p.get('result') ?? '';
    if (result) {
      if (RESULT_RE.test(result)) filter.resultType = result;
      else notices.push('result type filter ignored: not a result type');
    }
    const org = p.get('org') ?? '';
    if (org && org.length <= 500) filter.organization = org;
    const limit = 200;
    const [byResultType, byOrganization, byMx, rows, resultTypes, firstDays] = await Promise.all([
      queries.byResultType(filter),
      queries.byOrganization(filter),
      queries.byReceivingMx(filter),
      queries.failureTable(filter, limit),
      queries.resultTypes(),
      queries.firstDays(),
    ]);
    const domains = [...new Set([...options.domains().map((d) => d.domain), ...firstDays.keys()])].sort();
    return page(
      failuresPage({
        filter,
        domains,
        resultTypes,
        byResultType,
        byOrganization,
        byMx,
        rows,
        limit,
        notices,
        loggedIn,
      }),
    );
  };

  const reports = async (url: URL, loggedIn: boolean) => {
    const pageNo = Math.max(
      1,
      Math.min(10_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1),
    );
    const domain = (url.searchParams.get('domain') ?? '').trim().toLowerCase().slice(0, 253);
    const pageSize = 50;
    const items = await options.store.list({
      ...(domain ? { domain } : {}),
      limit: pageSize,
      offset: (pageNo - 1) * pageSize,
    });
    return page(reportsPage({ items, ...(domain ? { domain } : {}), page: pageNo, pageSize, loggedIn }));
  };

  const oneReport = async (id: string, loggedIn: boolean) => {
    const found = await options.store.show(Number(id));
    const r = found.find((x) => x.id === Number(id));
    if (!r) return page(errorPage(404, `no report with id ${id}`, loggedIn), 404);
    return page(reportPage(r, loggedIn));
  };

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    const method = req.method.toUpperCase();
    const nowSeconds = Math.floor(now().getTime() / 1000);

    if (path === '/healthz') {
      const h = (await options.health?.()) ?? { ok: true };
      return new Response(`${JSON.stringify({ status: h.ok ? 'ok' : 'failing', ...(h.detail ?? {}) })}\n`, {
        status: h.ok ? 200 : 503,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    }
    if (path === '/assets/dashboard.css') {
      return new Response(DASHBOARD_CSS, {
        headers: {
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'max-age=3600',
          'x-content-type-options': 'nosniff',
        },
      });
    }
    if (path === '/favicon.ico') return new Response(null, { status: 204 });
    if (path === '/login' && protectedMode) {
      const a = auth as DashboardAuth;
      if (method === 'GET')
        return page(
          loginPage({
            token: Boolean(a.token),
            basic: Boolean(a.basic),
            next: safeNext(url.searchParams.get('next')),
          }),
        );
      if (method === 'POST') {
        if (!sameOrigin(req)) return text(403, 'cross-site form refused');
        const form = await readForm(req);
        const next = safeNext(form?.get('next'));
        const ok =
          form !== undefined &&
          checkCredentials(a, {
            ...(form.get('token') !== null ? { token: form.get('token') ?? '' } : {}),
            ...(form.get('user') !== null
              ? { user: form.get('user') ?? '', password: form.get('password') ?? '' }
              : {}),
          });
        if (!ok)
          return page(
            loginPage({
              token: Boolean(a.token),
              basic: Boolean(a.basic),
              error: 'Wrong credentials.',
              next,
            }),
            401,
          );
        const cookie = `${SESSION_COOKIE}=${signSession(a, nowSeconds + SESSION_SECONDS)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}${url.protocol === 'https:' ? '; Secure' : ''}`;
        return redirect(next, { 'set-cookie': cookie });
      }
      return text(405, 'method not allowed', { allow: 'GET, POST' });
    }

    const authorized = isAuthorized(req, auth, nowSeconds);
    if (!authorized) {
      const wantsHtml = method === 'GET' && (req.headers.get('accept') ?? '').includes('text/html');
      if (wantsHtml && path !== '/metrics')
        return redirect(`/login?next=${encodeURIComponent(path + url.search)}`);
      const schemes = [
        auth?.token ? 'Bearer realm="mta-sts"' : '',
        auth?.basic ? 'Basic realm="mta-sts", charset="UTF-8"' : '',
      ]
        .filter(Boolean)
        .join(', ');
      return text(401, 'credentials required', { 'www-authenticate': schemes });
    }
    const loggedIn = protectedMode;

    if (path === '/logout' && method === 'POST') {
      if (!sameOrigin(req)) return text(403, 'cross-site form refused');
      return redirect(protectedMode ? '/login' : '/', {
        'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
      });
    }
    if (path === '/status/check' && method === 'POST') {
      if (!sameOrigin(req)) return text(403, 'cross-site form refused');
      if (!options.live) return text(404, 'live checks are not enabled');
      void options.live.runNow();
      // Wait for the run when asked (tests, scripts); a browser gets the page back at once.
      if (url.searchParams.get('wait') === '1') await options.live.idle();
      return redirect('/status');
    }
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    if (path === '/metrics') {
      if (!options.metrics) return text(404, 'metrics are not enabled');
      const m = await options.metrics.render();
      return new Response(m.body, {
        headers: { 'content-type': m.contentType, 'cache-control': 'no-store' },
      });
    }
    try {
      if (path === '/' || path === '/overview') return await overview(url, loggedIn);
      if (path === '/failures') return await failures(url, loggedIn);
      if (path === '/reports') return await reports(url, loggedIn);
      const one = /^\/reports\/(\d{1,15})$/.exec(path);
      if (one) return await oneReport(one[1]!, loggedIn);
      if (path === '/status') {
        if (!options.live)
          return page(errorPage(404, 'live checks are not enabled on this server', loggedIn), 404);
        return page(
          statusPage({
            entries: options.live.entries(),
            running: options.live.running,
            ...(options.live.lastRunAt ? { lastRunAt: options.live.lastRunAt } : {}),
            intervalSeconds: options.liveIntervalSeconds ?? 0,
            loggedIn,
          }),
        );
      }
    } catch (err) {
      return page(errorPage(500, `the page could not be built: ${(err as Error).message}`, loggedIn), 500);
    }
    return page(errorPage(404, 'no such page', loggedIn), 404);
  };
}
