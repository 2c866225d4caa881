// RFC 8460 §4 aggregate TLS reports: bytes or text in, a normalised report with notes out.
// Liberal in what it accepts (real senders bend the schema in many small ways), but every
// deviation becomes a note on the report, and hard limits bound what outside input can cost.
import { type Finding, finding, type ParseResult, registerFindingCodes } from './findings.js';

const R8460 = (s: string) => `RFC 8460 §${s}`;

registerFindingCodes({
  'tlsrpt-report.invalid': {
    severity: 'error',
    rfc: R8460('4.4'),
    message: 'Not a usable TLS report',
  },
  'tlsrpt-report.too-large': {
    severity: 'error',
    message: 'The report is larger than the size limit',
  },
  'tlsrpt-report.limit': {
    severity: 'error',
    message: 'The report exceeds a structural limit (nesting depth or array length)',
  },
  'tlsrpt-report.bom': { severity: 'info', message: 'The JSON starts with a byte-order mark' },
  'tlsrpt-report.unknown-key': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'A key the schema does not define was kept in the raw JSON only',
  },
  'tlsrpt-report.alias-key': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'A key used the schema placeholder name instead of the field name; read as the field',
  },
  'tlsrpt-report.datetime-no-zone': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'A date-time has no time zone; read as UTC',
  },
  'tlsrpt-report.datetime-date-only': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'A date-time has no time of day; read as midnight UTC',
  },
  'tlsrpt-report.end-next-midnight': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'end-datetime is the next midnight (an exclusive end) rather than 23:59:59',
  },
  'tlsrpt-report.date-range-reversed': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'end-datetime is before start-datetime',
  },
  'tlsrpt-report.contact-missing': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'contact-info is null or absent',
  },
  'tlsrpt-report.report-id-truncated': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'report-id ends in "+" (the sender left the domain part empty)',
  },
  'tlsrpt-report.coerced': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'A value had the wrong JSON type and was converted',
  },
  'tlsrpt-report.no-policies': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'The report lists no policies',
  },
  'tlsrpt-report.policy-string-missing': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'policy-string is absent, so the policy mode is unknown',
  },
  'tlsrpt-report.policy-string-json': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'policy-string held one JSON-encoded array of strings; decoded',
  },
  'tlsrpt-report.mx-host-string': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'mx-host is a single string, not an array',
  },
  'tlsrpt-report.mx-host-prefixed': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'mx-host entries carry an "mx:" prefix copied from the policy; removed',
  },
  'tlsrpt-report.unknown-policy-type': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'policy-type is not tlsa, sts or no-policy-found',
  },
  'tlsrpt-report.unknown-result-type': {
    severity: 'warning',
    rfc: R8460('4.3'),
    message: 'result-type is not one RFC 8460 §4.3 defines',
  },
  'tlsrpt-report.empty-ip': {
    severity: 'info',
    rfc: R8460('4.4'),
    message: 'An IP address field is an empty string; stored as absent',
  },
  'tlsrpt-report.malformed-ip': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'An IP address field does not look like an IPv4 or IPv6 address',
  },
  'tlsrpt-report.summary-missing': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'A policy has no summary; failures taken from the failure details, successes as 0',
  },
  'tlsrpt-report.summary-mismatch': {
    severity: 'warning',
    rfc: R8460('4.4'),
    message: 'The summary failure count differs from the sum of the failure details; totals use the summary',
  },
  'tlsrpt-report.overlapping-policies': {
    severity: 'info',
    rfc: 'RFC 8461 §2',
    message: 'The same sessions are reported under more than one policy type; only one is counted in totals',
  },
});

export const TLSRPT_RESULT_TYPES = [
  'starttls-not-supported',
  'certificate-host-mismatch',
  'certificate-expired',
  'certificate-not-trusted',
  'validation-failure',
  'tlsa-invalid',
  'dnssec-invalid',
  'dane-required',
  'sts-policy-fetch-error',
  'sts-policy-invalid',
  'sts-webpki-invalid',
] as const;

export interface TlsrptLimits {
  /** Decompressed JSON size in bytes. */
  maxBytes: number;
  maxDepth: number;
  maxPolicies: number;
  /** Failure details per policy. */
  maxFailureDetails: number;
  /** policy-string lines and mx-host entries per policy. */
  maxPolicyLines: number;
  /** Characters in any one string value. */
  maxStringLength: number;
}

export const DEFAULT_TLSRPT_LIMITS: TlsrptLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxDepth: 12,
  maxPolicies: 1000,
  maxFailureDetails: 20_000,
  maxPolicyLines: 1000,
  maxStringLength: 65_536,
};

export interface TlsrptFailureDetail {
  resultType: string;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingMxHelo: string | null;
  receivingIp: string | null;
  failedSessions: number;
  additionalInformation: string | null;
  failureReasonCode: string | null;
}

export interface TlsrptPolicy {
  policyType: string;
  /** Lowercased, without a trailing dot. */
  policyDomain: string;
  policyStrings: string[];
  mxHosts: string[];
  /** The `mode:` of an sts policy-string; null when unknown or not an sts policy. */
  mode: string | null;
  successful: number;
  failed: number;
  failureDetails: TlsrptFailureDetail[];
  /** Whether this entry's sessions count in totals (see chooseCountedPolicies). */
  counted: boolean;
}

export interface TlsrptReport {
  organization: string;
  reportId: string;
  /** ISO 8601 UTC, second precision: 2024-09-15T00:00:00Z */
  start: string;
  end: string;
  contact: string | null;
  policies: TlsrptPolicy[];
}

class ReportError extends Error {
  constructor(
    readonly code: 'tlsrpt-report.invalid' | 'tlsrpt-report.limit' | 'tlsrpt-report.too-large',
    message: string,
  ) {
    super(message);
  }
}

/** Parse and normalise one RFC 8460 §4.4 report from its JSON bytes or text. */
export function parseTlsrptReport(
  input: string | Uint8Array,
  limits: TlsrptLimits = DEFAULT_TLSRPT_LIMITS,
): ParseResult<TlsrptReport> {
  const notes: Finding[] = [];
  try {
    const size = typeof input === 'string' ? input.length : input.byteLength;
    if (size > limits.maxBytes) {
      throw new ReportError(
        'tlsrpt-report.too-large',
        `report is ${size} bytes, above the ${limits.maxBytes}-byte limit`,
      );
    }
    let text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    if (text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      notes.push(finding('tlsrpt-report.bom'));
    }
    checkJsonDepth(text, limits.maxDepth);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ReportError('tlsrpt-report.invalid', `invalid JSON: ${(err as Error).message}`);
    }
    const value = normaliseReport(json, notes, limits);
    return { ok: true, value, findings: notes };
  } catch (err) {
    if (err instanceof ReportError)
      return { ok: false, findings: [finding(err.code, { message: err.message })] };
    if (err instanceof TypeError && /encoded data/i.test(err.message)) {
      return {
        ok: false,
        findings: [finding('tlsrpt-report.invalid', { message: 'report is not valid UTF-8' })],
      };
    }
    throw err;
  }
}

/** Parse an already-decoded JSON value (e.g. from a generator). */
export function normaliseTlsrptReport(
  json: unknown,
  limits: TlsrptLimits = DEFAULT_TLSRPT_LIMITS,
): ParseResult<TlsrptReport> {
  const notes: Finding[] = [];
  try {
    return { ok: true, value: normaliseReport(json, notes, limits), findings: notes };
  } catch (err) {
    if (err instanceof ReportError)
      return { ok: false, findings: [finding(err.code, { message: err.message })] };
    throw err;
  }
}

/** The one-line reason a failed parse gives. */
export function parseFailureReason(findings: readonly Finding[]): string {
  return findings.find((f) => f.severity === 'error')?.message ?? 'not a usable TLS report';
}

// JSON.parse has no depth limit and recurses; a linear scan first keeps deep nesting
// from costing a stack overflow (and keeps the error message about the input).
function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new ReportError('tlsrpt-report.limit', `JSON nesting deeper than ${maxDepth} levels`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TOP_KEYS = new Set(['organization-name', 'date-range', 'contact-info', 'report-id', 'policies']);
const DATE_KEYS = new Set(['start-datetime', 'end-datetime']);
const ENTRY_KEYS = new Set(['policy', 'summary', 'failure-details']);
const POLICY_KEYS = new Set(['policy-type', 'policy-string', 'policy-domain', 'mx-host']);
const SUMMARY_KEYS = new Set(['total-successful-session-count', 'total-failure-session-count']);
const DETAIL_KEYS = new Set([
  'result-type',
  'sending-mta-ip',
  'receiving-mx-hostname',
  'receiving-mx-helo',
  'receiving-ip',
  'failed-session-count',
  'additional-information',
  'failure-reason-code',
]);

class Ctx {
  private unknownKeys = 0;
  constructor(
    readonly notes: Finding[],
    readonly limits: TlsrptLimits,
  ) {}

  note(code: string, subject: string, message?: string): void {
    // A pathological report could repeat one oddity thousands of times; keep the notes readable.
    if (this.notes.length >= 200) return;
    this.notes.push(finding(code, message === undefined ? { subject } : { subject, message }));
  }

  unknown(obj: Obj, known: Set<string>, path: string): void {
    for (const key of Object.keys(obj)) {
      if (known.has(key)) continue;
      if (++this.unknownKeys <= 20) {
        this.note('tlsrpt-report.unknown-key', `${path}.${key}`, `Unknown key "${key}" at ${path}`);
      }
    }
  }
}

function fail(path: string, what: string): never {
  throw new ReportError('tlsrpt-report.invalid', `${path}: ${what}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? 'a long string' : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function requiredString(ctx: Ctx, obj: Obj, key: string, path: string): string {
  const v = obj[key];
  if (v === undefined || v === null) fail(path, `"${key}" is missing`);
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) {
    s = String(v);
    ctx.note(
      'tlsrpt-report.coerced',
      `${path}.${key}`,
      `${path}.${key} is a number; read as the string "${s}"`,
    );
  } else fail(path, `"${key}" must be a string, got ${describe(v)}`);
  s = s.trim();
  if (s === '') fail(path, `"${key}" is empty`);
  return limitString(ctx, s, `${path}.${key}`);
}

function optionalString(ctx: Ctx, obj: Obj, key: string, path: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return limitString(ctx, v.trim(), `${path}.${key}`);
  if (typeof v === 'number' || typeof v === 'boolean') {
    ctx.note('tlsrpt-report.coerced', `${path}.${key}`, `${path}.${key} is a ${typeof v}; read as a string`);
    return String(v);
  }
  fail(path, `"${key}" must be a string, got ${describe(v)}`);
}

function limitString(ctx: Ctx, s: string, path: string): string {
  if (s.length > ctx.limits.maxStringLength) {
    throw new ReportError(
      'tlsrpt-report.limit',
      `${path} is longer than ${ctx.limits.maxStringLength} characters`,
    );
  }
  return s;
}

function count(ctx: Ctx, obj: Obj, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v)) {
    n = Number(v);
    ctx.note('tlsrpt-report.coerced', `${path}.${key}`, `${path}.${key} is the string "${v}"; read as ${n}`);
  } else fail(path, `"${key}" must be a non-negative integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(n) || n < 0) fail(path, `"${key}" must be a non-negative integer, got ${n}`);
  return n;
}

function array(_ctx: Ctx, v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be an array, got ${describe(v)}`);
  if (v.length > max) {
    throw new ReportError(
      'tlsrpt-report.limit',
      `${path} has ${v.length} entries, above the limit of ${max}`,
    );
  }
  return v;
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?)?$/;

function parseDateTime(ctx: Ctx, raw: unknown, path: string): Date {
  if (typeof raw !== 'string') fail(path, `must be an RFC 3339 date-time string, got ${describe(raw)}`);
  const m = DATETIME.exec(raw.trim());
  if (!m) fail(path, `"${raw}" is not an RFC 3339 date-time`);
  const [, y, mo, d, h, mi, s, zone] = m;
  if (h === undefined)
    ctx.note('tlsrpt-report.datetime-date-only', path, `${path} "${raw}" has no time; read as 00:00:00Z`);
  else if (zone === undefined)
    ctx.note('tlsrpt-report.datetime-no-zone', path, `${path} "${raw}" has no time zone; read as UTC`);
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  if (zone && /^[+-]/.test(zone)) {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const date = new Date(ms);
  // Date.UTC rolls 2024-02-31 over to March; a calendar check catches it.
  const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (Number.isNaN(ms) || calendar.getUTCMonth() !== Number(mo) - 1 || calendar.getUTCDate() !== Number(d)) {
    fail(path, `"${raw}" is not a valid date`);
  }
  if (Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 60)
    fail(path, `"${raw}" is not a valid time`);
  if (Number(y) < 1970 || Number(y) > 9999) fail(path, `"${raw}" is out of range`);
  return date;
}

export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function normaliseReport(json: unknown, notes: Finding[], limits: TlsrptLimits): TlsrptReport {
  const ctx = new Ctx(notes, limits);
  if (!isObject(json)) fail('report', `must be a JSON object, got ${describe(json)}`);
  if (!('organization-name' in json) && !('policies' in json) && !('report-id' in json)) {
    fail('report', 'JSON is not a TLS report (no organization-name, report-id or policies)');
  }
  ctx.unknown(json, TOP_KEYS, 'report');
  const organization = requiredString(ctx, json, 'organization-name', 'report');
  const reportId = requiredString(ctx, json, 'report-id', 'report');
  if (reportId.endsWith('+')) ctx.note('tlsrpt-report.report-id-truncated', 'report.report-id');

  const range = json['date-range'];
  if (!isObject(range)) fail('report', `"date-range" must be an object, got ${describe(range)}`);
  ctx.unknown(range, DATE_KEYS, 'date-range');
  const start = parseDateTime(ctx, range['start-datetime'], 'date-range.start-datetime');
  const end = parseDateTime(ctx, range['end-datetime'], 'date-range.end-datetime');
  if (end.getTime() < start.getTime()) ctx.note('tlsrpt-report.date-range-reversed', 'date-range');
  else if (
    end.getTime() > start.getTime() &&
    end.getUTCHours() + end.getUTCMinutes() + end.getUTCSeconds() === 0
  ) {
    ctx.note('tlsrpt-report.end-next-midnight', 'date-range.end-datetime');
  }

  const contactRaw = json['contact-info'];
  let contact: string | null = null;
  if (contactRaw === undefined || contactRaw === null || contactRaw === '') {
    ctx.note('tlsrpt-report.contact-missing', 'report.contact-info');
  } else contact = optionalString(ctx, json, 'contact-info', 'report');

  const entries = array(ctx, json.policies, 'policies', limits.maxPolicies);
  if (entries.length === 0) ctx.note('tlsrpt-report.no-policies', 'policies');
  const policies = entries.map((e, i) => normalisePolicy(ctx, e, `policies[${i}]`));
  chooseCountedPolicies(policies, ctx);
  return { organization, reportId, start: isoSeconds(start), end: isoSeconds(end), contact, policies };
}

function aliased(ctx: Ctx, obj: Obj, key: string, alias: string, path: string): unknown {
  if (obj[key] !== undefined) return obj[key];
  if (obj[alias] !== undefined) {
    ctx.note(
      'tlsrpt-report.alias-key',
      `${path}.${alias}`,
      `${path} uses "${alias}" for "${key}"; read as "${key}"`,
    );
    return obj[alias];
  }
  return undefined;
}

function normalisePolicy(ctx: Ctx, entry: unknown, path: string): TlsrptPolicy {
  if (!isObject(entry)) fail(path, `must be an object, got ${describe(entry)}`);
  ctx.unknown(entry, ENTRY_KEYS, path);
  const p = entry.policy;
  if (!isObject(p)) fail(path, `"policy" must be an object, got ${describe(p)}`);
  const pp = `${path}.policy`;
  ctx.unknown(p, new Set([...POLICY_KEYS, 'mx-host-pattern']), pp);

  const policyType = requiredString(ctx, p, 'policy-type', pp).toLowerCase();
  if (!['sts', 'tlsa', 'no-policy-found'].includes(policyType)) {
    ctx.note(
      'tlsrpt-report.unknown-policy-type',
      `${pp}.policy-type`,
      `${pp}.policy-type "${policyType}" is unknown`,
    );
  }
  const policyDomain = requiredString(ctx, p, 'policy-domain', pp).toLowerCase().replace(/\.$/, '');
  const policyStrings = readPolicyStrings(ctx, p['policy-string'], policyType, `${pp}.policy-string`);
  const mxHosts = readMxHosts(ctx, aliased(ctx, p, 'mx-host', 'mx-host-pattern', pp), `${pp}.mx-host`);

  let mode: string | null = null;
  if (policyType === 'sts') {
    for (const line of policyStrings) {
      const m = /^\s*mode\s*:\s*(\S*)\s*$/i.exec(line);
      if (m) {
        mode = m[1]!.toLowerCase();
        break;
      }
    }
  }

  const detailsRaw = entry['failure-details'];
  const details =
    detailsRaw === undefined || detailsRaw === null
      ? []
      : array(ctx, detailsRaw, `${path}.failure-details`, ctx.limits.maxFailureDetails).map((d, i) =>
          normaliseDetail(ctx, d, `${path}.failure-details[${i}]`),
        );
  const detailSum = details.reduce((a, d) => a + d.failedSessions, 0);

  const s = entry.summary;
  let successful: number;
  let failed: number;
  if (s === undefined || s === null) {
    ctx.note('tlsrpt-report.summary-missing', `${path}.summary`);
    successful = 0;
    failed = detailSum;
  } else {
    if (!isObject(s)) fail(`${path}.summary`, `must be an object, got ${describe(s)}`);
    ctx.unknown(s, SUMMARY_KEYS, `${path}.summary`);
    successful = count(ctx, s, 'total-successful-session-count', `${path}.summary`) ?? 0;
    failed = count(ctx, s, 'total-failure-session-count', `${path}.summary`) ?? 0;
  }
  // RFC 8460 §4.4: the summary totals are the session counts; details may be partial.
  if (details.length > 0 && detailSum !== failed) {
    ctx.note(
      'tlsrpt-report.summary-mismatch',
      `${path}.summary`,
      `${path}: summary says ${failed} failed sessions, failure details add up to ${detailSum}`,
    );
  }
  return {
    policyType,
    policyDomain,
    policyStrings,
    mxHosts,
    mode,
    successful,
    failed,
    failureDetails: details,
    counted: true,
  };
}

function readPolicyStrings(ctx: Ctx, v: unknown, policyType: string, path: string): string[] {
  if (v === undefined || v === null) {
    if (policyType !== 'no-policy-found') ctx.note('tlsrpt-report.policy-string-missing', path);
    return [];
  }
  let list: unknown[];
  if (typeof v === 'string') {
    ctx.note('tlsrpt-report.coerced', path, `${path} is a single string, not an array`);
    list = [v];
  } else list = array(ctx, v, path, ctx.limits.maxPolicyLines);
  const out: string[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') fail(`${path}[${i}]`, `must be a string, got ${describe(item)}`);
    // Microsoft puts a TLSA policy's records in one JSON-encoded array string.
    const t = item.trim();
    if (t.startsWith('[') && t.endsWith(']')) {
      try {
        const inner: unknown = JSON.parse(t);
        if (Array.isArray(inner) && inner.every((x) => typeof x === 'string')) {
          ctx.note('tlsrpt-report.policy-string-json', `${path}[${i}]`);
          out.push(...inner.map((x) => limitString(ctx, x, path)));
          continue;
        }
      } catch {
        // not JSON after all: keep the line as it is
      }
    }
    out.push(limitString(ctx, item, `${path}[${i}]`));
  }
  if (out.length > ctx.limits.maxPolicyLines) {
    throw new ReportError(
      'tlsrpt-report.limit',
      `${path} has more than ${ctx.limits.maxPolicyLines} entries`,
    );
  }
  return out;
}

function readMxHosts(ctx: Ctx, v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  let list: unknown[];
  if (typeof v === 'string') {
    ctx.note('tlsrpt-report.mx-host-string', path);
    list = v.split(/[\s,]+/).filter((x) => x !== '');
  } else list = array(ctx, v, path, ctx.limits.maxPolicyLines);
  let prefixed = false;
  const out = list.map((item, i) => {
    if (typeof item !== 'string') fail(`${path}[${i}]`, `must be a string, got ${describe(item)}`);
    const m = /^\s*mx\s*:\s*(.*)$/i.exec(item);
    if (m) prefixed = true;
    return limitString(ctx, (m ? m[1]! : item).trim(), `${path}[${i}]`);
  });
  if (prefixed) ctx.note('tlsrpt-report.mx-host-prefixed', path);
  return out;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-f:]*:[0-9a-f:.]*$/i;

function readIp(ctx: Ctx, obj: Obj, key: string, path: string): string | null {
  const v = optionalString(ctx, obj, key, path);
  if (v === null) return null;
  if (v === '') {
    ctx.note('tlsrpt-report.empty-ip', `${path}.${key}`);
    return null;
  }
  if (!IPV4.test(v) && !(IPV6.test(v) && v.length <= 45)) {
    ctx.note(
      'tlsrpt-report.malformed-ip',
      `${path}.${key}`,
      `${path}.${key} "${v.slice(0, 60)}" is not an IP address`,
    );
  }
  return v;
}

function normaliseDetail(ctx: Ctx, d: unknown, path: string): TlsrptFailureDetail {
  if (!isObject(d)) fail(path, `must be an object, got ${describe(d)}`);
  ctx.unknown(d, new Set([...DETAIL_KEYS, 'additional-info-uri']), path);
  const resultType = requiredString(ctx, d, 'result-type', path).toLowerCase();
  if (!(TLSRPT_RESULT_TYPES as readonly string[]).includes(resultType)) {
    ctx.note(
      'tlsrpt-report.unknown-result-type',
      `${path}.result-type`,
      `${path}.result-type "${resultType}" is unknown`,
    );
  }
  const failedSessions = count(ctx, d, 'failed-session-count', path);
  if (failedSessions === undefined) fail(path, '"failed-session-count" is missing');
  const info = aliased(ctx, d, 'additional-information', 'additional-info-uri', path);
  const mx = optionalString(ctx, d, 'receiving-mx-hostname', path);
  return {
    resultType,
    sendingMtaIp: readIp(ctx, d, 'sending-mta-ip', path),
    receivingMxHostname: mx === null || mx === '' ? null : mx.toLowerCase().replace(/\.$/, ''),
    receivingMxHelo: optionalString(ctx, d, 'receiving-mx-helo', path) || null,
    receivingIp: readIp(ctx, d, 'receiving-ip', path),
    failedSessions,
    additionalInformation:
      info === undefined
        ? null
        : optionalString(ctx, { v: info }, 'v', `${path}.additional-information`) || null,
    failureReasonCode: optionalString(ctx, d, 'failure-reason-code', path) || null,
  };
}

const TYPE_PRECEDENCE: Record<string, number> = { tlsa: 2, sts: 1 };

/**
 * The counting rule. Within one report and one policy domain, entries of different policy
 * types other than no-policy-found describe the same sessions seen through different policies
 * (Microsoft lists every session under both sts and tlsa). Entries of one type are disjoint
 * (e.g. a policy that changed during the day) and add up; no-policy-found sessions had no
 * policy at all (RFC 8460 §4.4), so they never overlap the others. For each domain we count
 * all no-policy-found entries plus every entry of ONE other type: the type covering the most
 * sessions (so no session goes missing), ties going to tlsa because DANE takes precedence
 * over MTA-STS (RFC 8461 §2). The other entries stay stored and visible per policy type.
 */
export function chooseCountedPolicies(
  policies: TlsrptPolicy[],
  ctx?: { note(c: string, s: string, m?: string): void },
) {
  const byDomain = new Map<string, Map<string, number>>();
  for (const p of policies) {
    if (p.policyType === 'no-policy-found') continue;
    const types = byDomain.get(p.policyDomain) ?? new Map<string, number>();
    types.set(p.policyType, (types.get(p.policyType) ?? 0) + p.successful + p.failed);
    byDomain.set(p.policyDomain, types);
  }
  const chosen = new Map<string, string>();
  for (const [domain, types] of byDomain) {
    let best: [string, number] | undefined;
    for (const [type, sessions] of types) {
      if (
        !best ||
        sessions > best[1] ||
        (sessions === best[1] && (TYPE_PRECEDENCE[type] ?? 0) > (TYPE_PRECEDENCE[best[0]] ?? 0)) ||
        (sessions === best[1] &&
          (TYPE_PRECEDENCE[type] ?? 0) === (TYPE_PRECEDENCE[best[0]] ?? 0) &&
          type < best[0])
      ) {
        best = [type, sessions];
      }
    }
    chosen.set(domain, best![0]);
    if (types.size > 1) {
      ctx?.note(
        'tlsrpt-report.overlapping-policies',
        domain,
        `${domain} is reported under ${[...types.keys()].join(' and ')}; totals count the ${best![0]} entries only`,
      );
    }
  }
  for (const p of policies) {
    p.counted = p.policyType === 'no-policy-found' || chosen.get(p.policyDomain) === p.policyType;
  }
}
