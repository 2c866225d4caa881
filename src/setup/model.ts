// The set-up model: what a domain's MTA-STS set-up consists of (policy inputs, report address,
// pages host), its recorded state (current id and since when), and the pure steps over it:
// validation, applying a change, reconciling desired against recorded (a new id exactly when
// the policy content changed), and advice.
import { hostnameProblem, normalizeDomain } from '../core/domain.js';
import { type Finding, finding } from '../core/findings.js';
import {
  buildStsPolicy,
  formatStsPolicy,
  MAX_AGE_LIMIT,
  type StsMode,
  type StsPolicy,
  samePolicy,
} from '../core/sts-policy.js';
import { ruaUriProblem } from '../core/tlsrpt-record.js';
import './findings.js';
import { nextPolicyId } from './policy-id.js';

export const SITE_TARGETS = ['github-pages', 'static', 'nginx', 'caddy', 'cloudflare-worker'] as const;
export type SiteTarget = (typeof SITE_TARGETS)[number];

/** Targets where one server answers for many policy hosts: `init --config` writes one shared directory. */
export const SHARED_TARGETS: readonly SiteTarget[] = ['nginx', 'caddy', 'cloudflare-worker'];

export const DEFAULT_MODE: StsMode = 'testing';
/** One week: long enough to protect, short enough to recover from a mistake. */
export const DEFAULT_MAX_AGE = 604_800;
/** After this long in testing mode, advice suggests enforce. */
export const TESTING_LONG_DAYS = 30;
export const MAX_MX_PATTERNS = 100;
export const MAX_RUA = 10;

/** What the user decides for one domain. */
export interface DomainSetup {
  domain: string;
  mode: StsMode;
  mx: string[];
  maxAge: number;
  /** TLS-RPT report URIs (RFC 8460 §3); empty: no _smtp._tls record. */
  rua: string[];
  /** The GitHub Pages host that mta-sts.<domain> is a CNAME to (github-pages target). */
  pagesHost?: string;
}

/** A domain's set-up with its id bookkeeping: the source of truth for every generated file. */
export interface DomainState extends DomainSetup {
  id: string;
  /** ISO 8601: when the current id was minted. */
  idSetAt: string;
  /** ISO 8601: since when the mode has been what it is (for the "testing for long" advice). */
  modeSince: string;
}

export class SetupError extends Error {
  readonly code: string;
  readonly findings: Finding[];
  constructor(message: string, code: string, findings: Finding[] = []) {
    super(message);
    this.name = 'SetupError';
    this.code = code;
    this.findings = findings;
  }
}

/** Lowercase, no trailing dot, A-labels; "*." kept. Invalid input is returned as typed (validation names it). */
export function normalizeMxPattern(raw: string): string {
  const trimmed = raw.trim();
  const wildcard = trimmed.startsWith('*.');
  const n = normalizeDomain(wildcard ? trimmed.slice(2) : trimmed);
  return n.ok ? (wildcard ? '*.' : '') + n.value : trimmed;
}

export function policyOf(
  setup: Pick<DomainSetup, 'mode' | 'mx' | 'maxAge'>,
): Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'> {
  return { mode: setup.mode, mx: [...setup.mx], maxAge: setup.maxAge };
}

/** The policy file body: canonical, LF line ends (RFC 8461 §3.2). */
export function policyText(setup: Pick<DomainSetup, 'mode' | 'mx' | 'maxAge'>): string {
  return formatStsPolicy(policyOf(setup));
}

export interface SetupInput {
  domain: string;
  mode?: string;
  mx?: readonly string[];
  maxAge?: number;
  rua?: readonly string[];
  pagesHost?: string;
}

/**
 * Validate and normalise a domain's set-up. Policy problems carry the same codes as `lint`
 * (built with buildStsPolicy); an error finding means the set-up must be refused.
 */
export function validateSetup(
  input: SetupInput,
): { ok: true; value: DomainSetup; findings: Finding[] } | { ok: false; findings: Finding[] } {
  const findings: Finding[] = [];
  const d = normalizeDomain(input.domain);
  if (!d.ok) {
    return {
      ok: false,
      findings: [finding('setup.domain-invalid', { message: `domain ${d.reason}`, subject: input.domain })],
    };
  }
  const domain = d.value;
  const mode = (input.mode ?? DEFAULT_MODE) as StsMode;
  const maxAge = input.maxAge ?? DEFAULT_MAX_AGE;
  const mx: string[] = [];
  for (const raw of input.mx ?? []) {
    const p = normalizeMxPattern(raw);
    if (!mx.includes(p)) mx.push(p);
  }
  if (mx.length > MAX_MX_PATTERNS) {
    findings.push(
      finding('policy.mx-invalid', {
        message: `${mx.length} mx patterns: at most ${MAX_MX_PATTERNS} are accepted`,
        subject: domain,
      }),
    );
  }
  // buildStsPolicy formats then parses: the very findings lint would give on the file.
  const built = buildStsPolicy({
    mode,
    mx,
    maxAge: Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge : MAX_AGE_LIMIT + 1,
  });
  for (const f of built.findings) {
    const { line: _line, column: _column, ...rest } = f;
    findings.push({ ...rest, subject: rest.subject ?? domain });
  }
  const rua: string[] = [];
  for (const raw of input.rua ?? []) {
    for (const uri of raw.split(',').map((u) => u.trim())) {
      if (uri.length === 0) continue;
      const problem = ruaUriProblem(uri);
      if (problem) findings.push(finding('tlsrpt-record.rua-invalid', { message: problem, subject: uri }));
      else if (!rua.includes(uri)) rua.push(uri);
    }
  }
  if (rua.length > MAX_RUA) {
    findings.push(
      finding('tlsrpt-record.rua-invalid', {
        message: `${rua.length} rua URIs: at most ${MAX_RUA} are accepted`,
      }),
    );
  }
  let pagesHost: string | undefined;
  if (input.pagesHost !== undefined) {
    const n = normalizeDomain(input.pagesHost);
    const problem = n.ok ? hostnameProblem(n.value) : n.reason;
    if (problem || !n.ok) {
      findings.push(
        finding('setup.pages-host-invalid', {
          message: `--pages-host: ${problem}`,
          subject: input.pagesHost,
        }),
      );
    } else pagesHost = n.value;
  }
  if (findings.some((f) => f.severity === 'error'))
    return { ok: false, findings: findings.filter((f) => !isAdviceCode(f.code)) };
  return {
    ok: true,
    value: { domain, mode, mx, maxAge, rua, ...(pagesHost ? { pagesHost } : {}) },
    findings: findings.filter((f) => !isAdviceCode(f.code)),
  };
}

// These come back from setupAdvice with context (how long, which domain); not twice.
function isAdviceCode(code: string): boolean {
  return code === 'policy.mode-testing' || code === 'policy.mode-none' || code === 'policy.max-age-short';
}

export interface PolicyChange {
  mode?: string;
  addMx?: readonly string[];
  removeMx?: readonly string[];
  maxAge?: number;
  /** Replace the report URIs; an empty list removes the _smtp._tls record. */
  rua?: readonly string[];
  pagesHost?: string;
}

/** Apply a change to a set-up; the result still needs validateSetup. Removing an absent mx is an error. */
export function applyPolicyChange(current: DomainSetup, change: PolicyChange): SetupInput {
  let mx = [...current.mx];
  for (const raw of change.removeMx ?? []) {
    const p = normalizeMxPattern(raw);
    if (!mx.includes(p)) {
      throw new SetupError(
        `--remove-mx ${raw}: the policy of ${current.domain} has no such mx (it has ${mx.join(', ') || 'none'})`,
        'mx-not-in-policy',
      );
    }
    mx = mx.filter((m) => m !== p);
  }
  for (const raw of change.addMx ?? []) {
    const p = normalizeMxPattern(raw);
    if (!mx.includes(p)) mx.push(p);
  }
  const pagesHost = change.pagesHost ?? current.pagesHost;
  return {
    domain: current.domain,
    mode: change.mode ?? current.mode,
    mx,
    maxAge: change.maxAge ?? current.maxAge,
    rua: change.rua ?? current.rua,
    ...(pagesHost !== undefined ? { pagesHost } : {}),
  };
}

export interface ReconcileResult {
  state: DomainState;
  /** The policy content changed (or there was none): a new id was minted. */
  idChanged: boolean;
  /** Anything at all changed (policy, reports, pages host). */
  changed: boolean;
  /** What changed, for people: "mode testing -> enforce", "added mx mx3.example.com". */
  changes: string[];
}

/**
 * Reconcile the desired set-up with the recorded state: keep the id when the policy is the same
 * for senders (samePolicy: mode, max_age, mx as a set), mint a strictly later one otherwise.
 */
export function reconcileDomain(
  desired: DomainSetup,
  previous: DomainState | undefined,
  now: Date,
): ReconcileResult {
  const at = now.toISOString();
  if (!previous) {
    return {
      state: { ...desired, id: nextPolicyId(now), idSetAt: at, modeSince: at },
      idChanged: true,
      changed: true,
      changes: ['new policy'],
    };
  }
  const changes: string[] = [];
  if (previous.mode !== desired.mode) changes.push(`mode ${previous.mode} -> ${desired.mode}`);
  const before = new Set(previous.mx.map((m) => m.toLowerCase()));
  const after = new Set(desired.mx.map((m) => m.toLowerCase()));
  for (const m of desired.mx) if (!before.has(m.toLowerCase())) changes.push(`added mx ${m}`);
  for (const m of previous.mx) if (!after.has(m.toLowerCase())) changes.push(`removed mx ${m}`);
  if (previous.maxAge !== desired.maxAge) changes.push(`max_age ${previous.maxAge} -> ${desired.maxAge}`);
  const same = samePolicy(previous, desired);
  if (same && previous.mx.join('\n') !== desired.mx.join('\n')) changes.push('mx order');
  if (previous.rua.join(',') !== desired.rua.join(',')) {
    changes.push(desired.rua.length ? `rua ${desired.rua.join(',')}` : 'rua removed');
  }
  if (previous.pagesHost !== desired.pagesHost) changes.push(`pages host ${desired.pagesHost ?? '(none)'}`);
  const idChanged = !same;
  return {
    state: {
      ...desired,
      id: idChanged ? nextPolicyId(now, previous.id) : previous.id,
      idSetAt: idChanged ? at : previous.idSetAt,
      modeSince: previous.mode === desired.mode ? previous.modeSince : at,
    },
    idChanged,
    changed: changes.length > 0,
    changes,
  };
}

function mailtoDomain(uri: string): string | undefined {
  if (!/^mailto:/i.test(uri)) return undefined;
  let addr = uri.slice(7).split('?')[0] ?? '';
  try {
    addr = decodeURIComponent(addr);
  } catch {
    // Keep it as written; ruaUriProblem has already judged the encoding.
  }
  const at = addr.lastIndexOf('@');
  return at < 0 ? undefined : addr.slice(at + 1).toLowerCase();
}

/**
 * Advice for a recorded set-up: testing (and testing for long), mode none, a short max_age,
 * and a mailto: report address on the domain whose delivery failures it should hear about.
 */
export function setupAdvice(
  state: DomainSetup & Partial<Pick<DomainState, 'modeSince'>>,
  now: Date,
): Finding[] {
  const out: Finding[] = [];
  const built = buildStsPolicy(policyOf(state));
  for (const f of built.findings) {
    if (!isAdviceCode(f.code)) continue;
    const { line: _l, column: _c, ...rest } = f;
    out.push({ ...rest, subject: state.domain });
  }
  if (state.mode === 'testing' && state.modeSince) {
    const days = Math.floor((now.getTime() - Date.parse(state.modeSince)) / 86_400_000);
    if (days >= TESTING_LONG_DAYS) {
      out.push(
        finding('setup.testing-long', {
          message: `${state.domain} has been in testing mode for ${days} days (since ${state.modeSince.slice(0, 10)})`,
          subject: state.domain,
        }),
      );
    }
  }
  for (const uri of state.rua) {
    const host = mailtoDomain(uri);
    // Same rule as the checker: the exact policy domain (a subdomain may have MX hosts of its own).
    if (host === state.domain) {
      out.push(
        finding('tlsrpt-record.rua-self-domain', {
          message: `reports go to ${uri.slice(7)}, a mailbox on ${state.domain} itself: when TLS to ${state.domain} fails, the reports about it fail too`,
          subject: uri,
        }),
      );
    }
  }
  return out;
}
