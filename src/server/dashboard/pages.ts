// The dashboard's pages: server-rendered HTML, every value from a report escaped by `html`.
import type { CheckReport } from '../../check/check-domain.js';
import type { StoredReport } from '../../reports/types.js';
import { html, type SafeHtml } from '../html.js';
import { sessionsChart } from './chart.js';
import type { LiveCheckEntry } from './live-status.js';
import type { DomainOverview } from './overview-model.js';
import type { Breakdown, FailureFilter, FailureTableRow } from './queries.js';

export type Section = 'overview' | 'failures' | 'reports' | 'status' | 'login';

const fmt = new Intl.NumberFormat('en-US');
export const n = (v: number): string => fmt.format(v);
export const pct = (v: number): string => `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 2)}%`;

export function layout(
  title: string,
  section: Section,
  body: SafeHtml,
  opts: { loggedIn?: boolean } = {},
): SafeHtml {
  const link = (href: string, s: Section, label: string) =>
    html`<a href="${href}"${s === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mta-sts dashboard</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><span class="brand">mta-sts serve</span>${
    section === 'login'
      ? ''
      : html`<nav>${link('/', 'overview', 'Overview')}${link('/failures', 'failures', 'Failures')}${link('/reports', 'reports', 'Reports')}${link('/status', 'status', 'Live status')}${
          opts.loggedIn
            ? html`<form method="post" action="/logout" class="inline"><button type="submit" class="linkish">Log out</button></form>`
            : ''
        }</nav>`
  }</header>
<main>${body}</main></body></html>`;
}

export function loginPage(opts: { token: boolean; basic: boolean; error?: string; next: string }): SafeHtml {
  return layout(
    'Log in',
    'login',
    html`<form class="login" method="post" action="/login">
<h1>Log in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<input type="hidden" name="next" value="${opts.next}">
${opts.token ? html`<label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="current-password">` : ''}
${
  opts.basic
    ? html`${opts.token ? html`<p class="muted">or</p>` : ''}<label for="user">User</label><input id="user" name="user" autocomplete="username"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">`
    : ''
}
<button type="submit">Log in</button></form>`,
  );
}

function modeBadge(mode: string | undefined): SafeHtml {
  const m = mode ?? 'unknown';
  return html`<span class="badge mode-${m}">${m}</span>`;
}

export function overviewPage(input: {
  domains: DomainOverview[];
  since: string;
  until: string;
  days: number;
  readinessDays: number;
  reportsTotal: number;
  loggedIn: boolean;
}): SafeHtml {
  const totals = input.domains.reduce((a, d) => ({ s: a.s + d.successful, f: a.f + d.failed }), {
    s: 0,
    f: 0,
  });
  const rate = totals.s + totals.f === 0 ? 0 : totals.f / (totals.s + totals.f);
  const cards = input.domains.map(
    (d) => html`<section class="card" data-domain="${d.domain}">
<h2><a href="/failures?domain=${encodeURIComponent(d.domain)}">${d.domain}</a> ${modeBadge(d.mode)}${d.hosted ? '' : html` <span class="muted">(not in the config)</span>`}</h2>
<div class="stats"><span><b data-field="successful">${n(d.successful)}</b> successful</span><span><b data-field="failed">${n(d.failed)}</b> failed</span><span><b data-field="rate">${pct(d.failureRate)}</b> failure rate</span></div>
${sessionsChart(d.series, `${d.domain}: sessions per day`)}
${d.successful + d.failed > 0 ? html`<div class="legend"><span class="sw ok"></span>successful<span class="sw fail"></span>failed</div>` : ''}
<p class="readiness">Enforce: <span class="badge ready-${d.readiness.status}" data-field="readiness">${readinessLabel(d.readiness.status)}</span> <span class="muted">${d.readiness.reason}</span></p>
</section>`,
  );
  return layout(
    'Overview',
    'overview',
    html`<h1>Overview <span class="muted">· ${input.since} to ${input.until}</span></h1>
<form class="filters" method="get" action="/"><label>Days<select name="days">${[7, 14, 30, 90, 365].map(
      (v) => html`<option value="${v}"${v === input.days ? html` selected` : ''}>${v}</option>`,
    )}</select></label><button type="submit">Show</button>
<span class="stats"><span><b data-field="total-sessions">${n(totals.s + totals.f)}</b> sessions</span><span><b data-field="total-failed">${n(totals.f)}</b> failed (${pct(rate)})</span><span><b>${n(input.reportsTotal)}</b> reports stored</span></span></form>
<p class="muted">Safe to enforce: no failed session for ${input.readinessDays} days from every reporter.</p>
${input.domains.length === 0 ? html`<p class="notice">No domains configured and no reports yet.</p>` : html`<div class="cards">${cards}</div>`}`,
    { loggedIn: input.loggedIn },
  );
}

function readinessLabel(s: string): string {
  return (
    {
      ready: 'looks safe',
      'not-ready': 'not yet',
      'no-data': 'no data',
      'not-applicable': 'n/a',
      enforcing: 'enforcing',
    }[s] ?? s
  );
}

function breakdownTable(
  title: string,
  column: string,
  rows: Breakdown[],
  link: (key: string) => string | undefined,
  id: string,
): SafeHtml {
  const total = rows.reduce((a, r) => a + r.failed, 0);
  return html`<section><h2>${title}</h2><div class="scroll"><table id="${id}"><thead><tr><th>${column}</th><th class="num">Failed</th><th class="num">Share</th></tr></thead><tbody>${
    rows.length === 0
      ? html`<tr><td colspan="3" class="muted">none</td></tr>`
      : rows.map((r) => {
          const href = link(r.key);
          return html`<tr><td>${href ? html`<a href="${href}">${r.key}</a>` : r.key}</td><td class="num">${n(r.failed)}</td><td class="num">${pct(total ? r.failed / total : 0)}</td></tr>`;
        })
  }</tbody></table></div></section>`;
}

export function failuresPage(input: {
  filter: FailureFilter;
  domains: string[];
  resultTypes: string[];
  byResultType: Breakdown[];
  byOrganization: Breakdown[];
  byMx: Breakdown[];
  rows: FailureTableRow[];
  limit: number;
  notices: string[];
  loggedIn: boolean;
}): SafeHtml {
  const f = input.filter;
  const q = (extra: Partial<FailureFilter>) => {
    const p = new URLSearchParams();
    const m = { ...f, ...extra };
    if (m.domain) p.set('domain', m.domain);
    if (m.since) p.set('since', m.since);
    if (m.until) p.set('until', m.until);
    if (m.resultType) p.set('result', m.resultType);
    if (m.organization) p.set('org', m.organization);
    return `/failures?${p.toString()}`;
  };
  return layout(
    'Failures',
    'failures',
    html`<h1>Failures</h1>
${input.notices.map((m) => html`<p class="notice">${m}</p>`)}
<form class="filters" method="get" action="/failures" id="failure-filters">
<label>Domain<select name="domain"><option value="">all</option>${input.domains.map(
      (d) => html`<option value="${d}"${d === f.domain ? html` selected` : ''}>${d}</option>`,
    )}</select></label>
<label>From<input type="date" name="since" value="${f.since ?? ''}"></label>
<label>To<input type="date" name="until" value="${f.until ?? ''}"></label>
<label>Result type<select name="result"><option value="">all</option>${input.resultTypes.map(
      (t) => html`<option value="${t}"${t === f.resultType ? html` selected` : ''}>${t}</option>`,
    )}</select></label>
${f.organization ? html`<input type="hidden" name="org" value="${f.organization}"><span class="muted">reporter: ${f.organization}</span>` : ''}
<button type="submit">Filter</button> <a href="/failures">clear</a></form>
<div class="breakdowns">
${breakdownTable('By result type', 'Result type', input.byResultType, (k) => q({ resultType: k }), 'by-result-type')}
${breakdownTable('By reporting organization', 'Reporter', input.byOrganization, (k) => q({ organization: k }), 'by-organization')}
${breakdownTable('By receiving MX', 'MX host', input.byMx, () => undefined, 'by-mx')}
</div>
<h2>Failure details <span class="muted">(each day links to its report; ${input.rows.length === input.limit ? `the ${input.limit} largest` : n(input.rows.length)})</span></h2>
<div class="scroll"><table id="failure-table"><thead><tr><th>Day</th><th>Domain</th><th>Result type</th><th>Reporter</th><th>Receiving MX</th><th>Receiving IP</th><th>Sending MTA</th><th class="num">Failed</th></tr></thead><tbody>${
      input.rows.length === 0
        ? html`<tr><td colspan="8" class="muted">no failures match</td></tr>`
        : input.rows.map(
            (r) =>
              html`<tr><td class="day"><a href="/reports/${r.reportRef}" title="report ${r.reportId}">${r.day}</a></td><td>${r.domain}</td><td>${r.resultType}${r.failureReasonCode ? html`<br><span class="muted">${r.failureReasonCode}</span>` : ''}</td><td>${r.organization}</td><td>${r.receivingMxHostname ?? ''}</td><td>${r.receivingIp ?? ''}</td><td>${r.sendingMtaIp ?? ''}</td><td class="num">${n(r.failedSessions)}</td></tr>`,
          )
    }</tbody></table></div>`,
    { loggedIn: input.loggedIn },
  );
}

export function reportsPage(input: {
  items: Array<{
    id: number;
    organization: string;
    reportId: string;
    start: string;
    end: string;
    policyDomains: string[];
    successful: number;
    failed: number;
  }>;
  domain?: string;
  page: number;
  pageSize: number;
  loggedIn: boolean;
}): SafeHtml {
  const more = input.items.length === input.pageSize;
  const qs = (page: number) =>
    `/reports?${new URLSearchParams({ ...(input.domain ? { domain: input.domain } : {}), page: String(page) }).toString()}`;
  return layout(
    'Reports',
    'reports',
    html`<h1>Reports${input.domain ? html` <span class="muted">for ${input.domain}</span>` : ''}</h1>
<div class="scroll"><table id="reports-table"><thead><tr><th>Start</th><th>Reporter</th><th>Report id</th><th>Domains</th><th class="num">Successful</th><th class="num">Failed</th></tr></thead><tbody>${
      input.items.length === 0
        ? html`<tr><td colspan="6" class="muted">no reports</td></tr>`
        : input.items.map(
            (r) =>
              html`<tr><td class="day">${r.start.slice(0, 10)}</td><td>${r.organization}</td><td><a href="/reports/${r.id}">${r.reportId}</a></td><td>${r.policyDomains.join(' ')}</td><td class="num">${n(r.successful)}</td><td class="num">${n(r.failed)}</td></tr>`,
          )
    }</tbody></table></div>
<p>${input.page > 1 ? html`<a href="${qs(input.page - 1)}">← newer</a> ` : ''}${more ? html`<a href="${qs(input.page + 1)}">older →</a>` : ''}</p>`,
    { loggedIn: input.loggedIn },
  );
}

function prettyJson(rawJson: string): string {
  try {
    return JSON.stringify(JSON.parse(rawJson), null, 2);
  } catch {
    return rawJson;
  }
}

export function reportPage(r: StoredReport, loggedIn: boolean): SafeHtml {
  return layout(
    `Report ${r.reportId}`,
    'reports',
    html`<h1>Report <span data-field="report-id">${r.reportId}</span></h1>
<dl class="fields" id="report-fields">
<dt>Organization</dt><dd data-field="organization">${r.organization}</dd>
<dt>Date range</dt><dd>${r.start} – ${r.end}</dd>
<dt>Contact</dt><dd>${r.contact ?? ''}</dd>
<dt>Policy domains</dt><dd>${r.policyDomains.join(', ')}</dd>
<dt>Sessions</dt><dd><span data-field="successful">${n(r.successful)}</span> successful, <span data-field="failed">${n(r.failed)}</span> failed</dd>
<dt>Received</dt><dd>${r.receivedAt} via ${r.source}</dd>
<dt>Stored id</dt><dd>${r.id}</dd>
</dl>
${r.notes.length > 0 ? html`<h2>Notes on this report</h2><ul class="findings">${r.notes.map((f) => html`<li><b>${f.severity}</b> ${f.code}: ${f.message}</li>`)}</ul>` : ''}
${r.policies.map(
  (
    p,
    i,
  ) => html`<h2>Policy ${i + 1}: ${p.policyType} for ${p.policyDomain}${p.mode ? html` (${p.mode})` : ''}</h2>
<dl class="fields"><dt>Sessions</dt><dd>${n(p.successful)} successful, ${n(p.failed)} failed${p.countedInTotals ? '' : ' (not counted in totals)'}</dd>
<dt>MX patterns</dt><dd>${p.mxHosts.join(', ')}</dd>
<dt>Policy strings</dt><dd>${p.policyStrings.map((s) => html`<code>${s}</code><br>`)}</dd></dl>
${
  p.failureDetails.length > 0
    ? html`<div class="scroll"><table><thead><tr><th>Result type</th><th>Receiving MX</th><th>Receiving IP</th><th>Sending MTA</th><th class="num">Failed</th><th>Reason code</th><th>Information</th></tr></thead><tbody>${p.failureDetails.map(
        (d) =>
          html`<tr><td>${d.resultType}</td><td>${d.receivingMxHostname ?? ''}${d.receivingMxHelo ? html`<br><span class="muted">HELO ${d.receivingMxHelo}</span>` : ''}</td><td>${d.receivingIp ?? ''}</td><td>${d.sendingMtaIp ?? ''}</td><td class="num">${n(d.failedSessions)}</td><td>${d.failureReasonCode ?? ''}</td><td>${d.additionalInformation ?? ''}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}`,
)}
<h2>Raw JSON</h2><pre id="raw-json">${prettyJson(r.rawJson)}</pre>`,
    { loggedIn },
  );
}

function checkSummary(r: CheckReport): SafeHtml {
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  return html`<span class="badge verdict-${r.verdict}" data-field="verdict">${r.verdict}</span> <span class="muted">${errors} errors, ${warnings} warnings · checked ${r.checkedAt}</span>`;
}

export function statusPage(input: {
  entries: LiveCheckEntry[];
  running: boolean;
  lastRunAt?: string;
  intervalSeconds: number;
  loggedIn: boolean;
}): SafeHtml {
  return layout(
    'Live status',
    'status',
    html`<h1>Live status</h1>
<form method="post" action="/status/check" class="filters"><button type="submit">Check all now</button>
<span class="muted">${input.running ? 'a check is running…' : input.lastRunAt ? `last run ${input.lastRunAt}` : 'not checked yet'}${
      input.intervalSeconds > 0 ? ` · every ${Math.round(input.intervalSeconds / 60)} min` : ' · no schedule'
    }</span></form>
${input.entries.map(
  (e) => html`<section class="card" data-domain="${e.domain}"><h2>${e.domain}</h2>
${e.report ? checkSummary(e.report) : html`<span class="muted">no result yet</span>`}
${e.error ? html`<p class="error">${e.error}</p>` : ''}
${
  e.report && e.report.findings.length > 0
    ? html`<ul class="findings">${e.report.findings.map(
        (f) =>
          html`<li><span class="badge verdict-${f.severity === 'error' ? 'fail' : f.severity === 'warning' ? 'warn' : 'none'}">${f.severity}</span> <code>${f.code}</code> ${f.message}${f.subject ? html` <span class="muted">(${f.subject})</span>` : ''}${f.rfc ? html` <span class="muted">${f.rfc}</span>` : ''}</li>`,
      )}</ul>`
    : ''
}</section>`,
)}`,
    { loggedIn: input.loggedIn },
  );
}

export function errorPage(status: number, message: string, loggedIn: boolean): SafeHtml {
  return layout(String(status), 'overview', html`<h1>${status}</h1><p>${message}</p>`, { loggedIn });
}
