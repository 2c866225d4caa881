// The live check of one domain: DNS records, the HTTPS policy host, the policy, every MX host's
// STARTTLS and certificate, and TLS-RPT. Orchestration over ports; the judgements are pure
// functions in src/core. Everything independent runs in parallel: the policy fetch starts with
// the first DNS questions, and every MX address is probed at once.
import { assessCertificate, type CertificateAssessment } from '../core/certificate.js';
import { canonicalName } from '../core/domain.js';
import { type Finding, type FindingDetails, finding, hasErrors } from '../core/findings.js';
import { mxCoverageFindings } from '../core/lint.js';
import { parseStsPolicy, type StsPolicy } from '../core/sts-policy.js';
import { parseStsRecords, type StsRecord } from '../core/sts-record.js';
import { parseTlsrptRecords, type TlsrptRecord } from '../core/tlsrpt-record.js';
import { joinTxtStrings } from '../core/txt-fields.js';
import type {
  DnsAnswer,
  DnsResolver,
  MxRecord,
  NetFailure,
  PolicyFetcher,
  PolicyFetchResult,
  SmtpProbeResult,
  SmtpProber,
  TlsPeerInfo,
} from '../ports.js';

export type CheckStep = 'dns' | 'policy-host' | 'policy' | 'mx' | 'starttls' | 'tlsrpt';
export const CHECK_STEPS: readonly CheckStep[] = ['dns', 'policy-host', 'policy', 'mx', 'starttls', 'tlsrpt'];

export type CheckFinding = Finding & { step: CheckStep };
export type Verdict = 'ok' | 'warn' | 'fail' | 'none';

export interface CertificateView {
  subject: string;
  issuer: string;
  dnsNames: string[];
  validFrom: string;
  validTo: string;
  daysLeft?: number;
  trusted: boolean;
  verifyError?: string;
}

export interface TlsView {
  protocol: string;
  cipher: string;
  certificate?: CertificateView;
}

export interface SmtpView {
  address: string;
  banner?: string;
  starttls: SmtpProbeResult['starttls'];
  tls?: TlsView;
  error?: { stage: string; code: string; detail: string };
}

export interface MxView {
  host: string;
  priority?: number;
  addresses: string[];
  smtp: SmtpView[];
}

export interface CheckReport {
  domain: string;
  verdict: Verdict;
  findings: CheckFinding[];
  record: {
    name: string;
    status: DnsAnswer<unknown>['status'];
    cnameChain: string[];
    txt: string[];
    value?: StsRecord;
  };
  policy: {
    url: string;
    fetched: boolean;
    address?: string;
    status?: number;
    contentType?: string;
    location?: string;
    tls?: TlsView;
    text?: string;
    value?: Pick<StsPolicy, 'version' | 'mode' | 'mx' | 'maxAge' | 'extensions'>;
    error?: { stage: string; code: string; detail: string };
  };
  mx: MxView[];
  tlsrpt: {
    name: string;
    status: DnsAnswer<unknown>['status'];
    txt: string[];
    value?: TlsrptRecord;
  };
  checkedAt: string;
}

export interface CheckDeps {
  dns: DnsResolver;
  fetcher: PolicyFetcher;
  /** Absent: STARTTLS probes are skipped (--no-smtp). */
  prober?: SmtpProber;
  now?: () => Date;
}

/** STARTTLS findings that only matter to a sender applying a policy (enforce or testing). */
const OPPORTUNISTIC_TLS_CODES = new Set([
  'smtp.starttls-missing',
  'smtp.tls-failed',
  'smtp.tls-version',
  'smtp.cert-untrusted',
  'smtp.cert-expired',
  'smtp.cert-name-mismatch',
]);

/** Certificates expiring within this many days draw smtp.cert-expiring. */
export const EXPIRY_WARNING_DAYS = 14;

function txtTexts(answer: DnsAnswer<string[]>): string[] {
  return answer.status === 'ok' ? answer.records.map(joinTxtStrings) : [];
}

function failureView(f: NetFailure): { stage: string; code: string; detail: string } {
  return { stage: f.stage, code: f.code, detail: f.detail };
}

function tlsView(tls: TlsPeerInfo, assessment?: CertificateAssessment): TlsView {
  const leaf = tls.chain[0];
  const view: TlsView = { protocol: tls.protocol, cipher: tls.cipher };
  if (leaf) {
    view.certificate = {
      subject: leaf.subject,
      issuer: leaf.issuer,
      dnsNames: leaf.dnsNames,
      validFrom: leaf.validFrom,
      validTo: leaf.validTo,
      trusted: tls.trusted,
      ...(assessment?.daysLeft !== undefined ? { daysLeft: assessment.daysLeft } : {}),
      ...(tls.verifyError ? { verifyError: tls.verifyError } : {}),
    };
  }
  return view;
}

export async function checkDomain(domainInput: string, deps: CheckDeps): Promise<CheckReport> {
  const domain = canonicalName(domainInput);
  const now = deps.now ?? (() => new Date());
  const findings: CheckFinding[] = [];
  const add = (step: CheckStep, code: string, details: FindingDetails = {}) => {
    findings.push({ ...finding(code, details), step });
  };
  const stsName = `_mta-sts.${domain}`;
  const tlsrptName = `_smtp._tls.${domain}`;
  const policyHost = `mta-sts.${domain}`;

  // Everything that needs no earlier answer starts now.
  const stsTxtP = deps.dns.txt(stsName);
  const apexTxtP = deps.dns.txt(domain);
  const tlsrptTxtP = deps.dns.txt(tlsrptName);
  const legacyTxtP = deps.dns.txt(`_smtp-tlsrpt.${domain}`);
  const fetchP = deps.fetcher.fetchPolicy(domain);
  const mxP = checkMx(domain, deps);

  const [stsTxt, apexTxt, tlsrptTxt, legacyTxt, fetched, mxResult] = await Promise.all([
    stsTxtP,
    apexTxtP,
    tlsrptTxtP,
    legacyTxtP,
    fetchP,
    mxP,
  ]);

  // DNS: the _mta-sts record (RFC 8461 §3.1)
  const report: CheckReport = {
    domain,
    verdict: 'ok',
    findings,
    record: {
      name: stsName,
      status: stsTxt.status,
      cnameChain: stsTxt.status === 'error' ? [] : stsTxt.cnameChain,
      txt: txtTexts(stsTxt),
    },
    policy: { url: `https://${policyHost}/.well-known/mta-sts.txt`, fetched: false },
    mx: mxResult.views,
    tlsrpt: { name: tlsrptName, status: tlsrptTxt.status, txt: txtTexts(tlsrptTxt) },
    checkedAt: now().toISOString(),
  };

  let hasPolicy = true;
  if (stsTxt.status === 'error') {
    add('dns', 'sts-record.lookup-failed', {
      message: `TXT lookup of ${stsName} failed: ${stsTxt.error} (${stsTxt.detail})`,
      subject: stsName,
    });
  } else if (stsTxt.status !== 'ok') {
    hasPolicy = false;
    add('dns', 'sts-record.absent', {
      message: `No TXT record at ${stsName} (${stsTxt.status.toUpperCase()}): ${domain} does not publish MTA-STS`,
      subject: stsName,
    });
  } else {
    const parsed = parseStsRecords(stsTxt.records);
    const nearMiss = parsed.findings.some(
      (f) => f.code === 'sts-record.version' && /looks like|contains v=STSv1/.test(f.message),
    );
    if (parsed.candidates === 0 && !nearMiss) {
      hasPolicy = false;
      add('dns', 'sts-record.absent', {
        message: `No TXT record at ${stsName} begins with v=STSv1: ${domain} does not publish MTA-STS`,
        subject: stsName,
      });
    } else {
      for (const f of parsed.findings) findings.push({ ...f, subject: f.subject ?? stsName, step: 'dns' });
      if (parsed.ok) report.record.value = parsed.value;
    }
  }
  const apexSts = txtTexts(apexTxt).filter((t) => t.startsWith('v=STSv1'));
  if (apexSts.length > 0) {
    add('dns', 'sts-record.at-apex', {
      message: `${domain} itself has the TXT record "${apexSts[0]}"; it belongs at ${stsName}`,
      subject: domain,
    });
  }

  // The policy host and the policy (RFC 8461 §3.3, §3.2)
  let policy: StsPolicy | undefined;
  if (hasPolicy) policy = judgeFetch(fetched, domain, now(), report, add, findings);
  else if (stsTxt.status !== 'error' && fetched.ok && fetched.status === 200 && !fetched.truncated) {
    // A policy served with no record to announce it: step 1 of RFC 8461 §8.1 done, step 2 not
    // (or a withdrawal half done). Senders never look at it.
    const served = parseStsPolicy(fetched.body);
    if (served.ok) {
      add('dns', 'policy.unannounced', {
        message: `https://mta-sts.${domain}/.well-known/mta-sts.txt serves a valid policy (mode ${served.value.mode}), but there is no _mta-sts record, so senders never fetch it`,
        subject: stsName,
      });
    }
  }

  // MX coverage (RFC 8461 §4.1) and the per-MX findings
  for (const f of mxResult.findings) findings.push(f);
  if (policy && mxResult.hosts.length > 0 && policy.mode !== 'none') {
    const cov = mxCoverageFindings(policy.mx, mxResult.hosts, policy.mode);
    for (const f of cov.findings) findings.push({ ...f, step: 'mx' });
  }

  // TLS-RPT (RFC 8460 §3)
  judgeTlsrpt(domain, tlsrptTxt, legacyTxt, report, add, findings);

  // Without an MTA-STS policy in force (none published, or mode none) senders use opportunistic
  // TLS and deliver whatever the certificate: the MX's TLS faults are worth fixing, not failures.
  if (!hasPolicy || policy?.mode === 'none') {
    for (const f of findings) {
      if (f.severity === 'error' && OPPORTUNISTIC_TLS_CODES.has(f.code)) f.severity = 'warning';
    }
  }
  if (!hasPolicy) report.verdict = 'none';
  else if (hasErrors(findings)) report.verdict = 'fail';
  else if (findings.some((f) => f.severity === 'warning')) report.verdict = 'warn';
  // A domain without MTA-STS can still have broken mail servers: say so in the verdict.
  if (!hasPolicy && hasErrors(findings)) report.verdict = 'fail';
  findings.sort((a, b) => CHECK_STEPS.indexOf(a.step) - CHECK_STEPS.indexOf(b.step));
  return report;
}

function judgeFetch(
  fetched: PolicyFetchResult,
  domain: string,
  now: Date,
  report: CheckReport,
  add: (step: CheckStep, code: string, details?: FindingDetails) => void,
  findings: CheckFinding[],
): StsPolicy | undefined {
  const host = `mta-sts.${domain}`;
  if (!fetched.ok) {
    const f = fetched.failure;
    report.policy.error = failureView(f);
    if (fetched.address) report.policy.address = fetched.address;
    const subject = fetched.address ? `${host} (${fetched.address})` : host;
    const detail = `${f.code}: ${f.detail}`;
    if (f.stage === 'dns') {
      if (f.code === 'nxdomain' || f.code === 'nodata')
        add('policy-host', 'policy.host-unresolvable', {
          message: `${host} has no A or AAAA record (${f.code.toUpperCase()})`,
          subject: host,
        });
      else
        add('policy-host', 'policy.host-lookup-failed', {
          message: `address lookup of ${host} failed: ${detail}`,
          subject: host,
        });
    } else if (f.stage === 'timeout')
      add('policy-host', 'policy.timeout', {
        message: `no complete answer from ${host} in time (${f.detail})`,
        subject,
      });
    else if (f.code === 'tls-version')
      add('policy-host', 'policy.tls-version', {
        message: `TLS older than 1.2 only: ${f.detail}`,
        subject,
      });
    else if (f.stage === 'http')
      add('policy-host', 'policy.http-invalid', {
        message: `malformed HTTP response from ${host}: ${detail}`,
        subject,
      });
    else
      add('policy-host', 'policy.connect-failed', {
        message: `${f.stage === 'tls' ? 'TLS handshake' : 'connection'} to ${host} failed: ${detail}`,
        subject,
      });
    if (f.tls) {
      report.policy.tls = tlsView(f.tls);
    }
    return undefined;
  }
  report.policy.fetched = true;
  report.policy.address = fetched.address;
  report.policy.status = fetched.status;
  if (fetched.contentType !== undefined) report.policy.contentType = fetched.contentType;
  if (fetched.location !== undefined) report.policy.location = fetched.location;
  const assessment = assessCertificate(fetched.tls, host, now);
  report.policy.tls = tlsView(fetched.tls, assessment);
  const subject = `${host} (${fetched.address})`;
  certificateFindings('policy-host', 'policy', host, host, subject, assessment, add);
  if (fetched.status >= 300 && fetched.status < 400) {
    add('policy-host', 'policy.redirect', {
      message: `${report.policy.url} answers ${fetched.status} redirecting to ${fetched.location ?? '(no Location)'}; senders do not follow redirects`,
      subject: host,
    });
    return undefined;
  }
  if (fetched.status !== 200) {
    add('policy-host', 'policy.http-status', {
      message: `${report.policy.url} answers ${fetched.status}, not 200`,
      subject: host,
    });
    return undefined;
  }
  if (fetched.truncated) {
    add('policy', 'policy.too-large', {
      message: `the policy body is larger than 65536 bytes; reading stopped there`,
      subject: host,
    });
    return undefined;
  }
  const mediaType = fetched.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'text/plain') {
    add('policy-host', 'policy.content-type', {
      message: `the policy is served as ${fetched.contentType ? `"${fetched.contentType}"` : 'no Content-Type'}, not text/plain`,
      subject: host,
    });
  }
  report.policy.text = new TextDecoder().decode(fetched.body);
  const parsed = parseStsPolicy(fetched.body);
  for (const f of parsed.findings) {
    // A policy a sender cannot use is reported by it as sts-policy-invalid (RFC 8460 §4.3.2).
    findings.push({
      ...f,
      ...(f.severity === 'error' && !f.resultType ? { resultType: 'sts-policy-invalid' as const } : {}),
      step: 'policy',
    });
  }
  const p = parsed.ok ? parsed.value : undefined;
  if (p)
    report.policy.value = {
      version: p.version,
      mode: p.mode,
      mx: p.mx,
      maxAge: p.maxAge,
      extensions: p.extensions,
    };
  return p;
}

interface MxResult {
  hosts: string[];
  views: MxView[];
  findings: CheckFinding[];
}

async function checkMx(domain: string, deps: CheckDeps): Promise<MxResult> {
  const findings: CheckFinding[] = [];
  const add = (step: CheckStep, code: string, details: FindingDetails = {}) =>
    findings.push({ ...finding(code, details), step });
  const answer = await deps.dns.mx(domain);
  let records: MxRecord[];
  if (answer.status === 'error') {
    add('mx', 'mx.lookup-failed', {
      message: `MX lookup of ${domain} failed: ${answer.error} (${answer.detail})`,
      subject: domain,
    });
    return { hosts: [], views: [], findings };
  }
  if (answer.status === 'nxdomain') {
    add('mx', 'mx.domain-nxdomain', { message: `${domain} does not exist (NXDOMAIN)`, subject: domain });
    return { hosts: [], views: [], findings };
  }
  if (answer.status === 'nodata' || answer.records.length === 0) {
    add('mx', 'mx.implicit', {
      message: `${domain} has no MX records: mail goes to ${domain} itself (RFC 5321 §5.1)`,
      subject: domain,
    });
    records = [{ exchange: domain, priority: 0 }];
  } else {
    records = [...answer.records].sort(
      (a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange),
    );
    if (records.length === 1 && canonicalName(records[0]!.exchange) === '') {
      add('mx', 'mx.null', {
        message: `${domain} publishes a null MX (RFC 7505): it accepts no mail`,
        subject: domain,
      });
      return { hosts: [], views: [], findings };
    }
  }
  const seen = new Set<string>();
  const unique = records.filter((r) => {
    const h = canonicalName(r.exchange);
    if (h === '' || seen.has(h)) return false;
    seen.add(h);
    return true;
  });
  const views = await Promise.all(
    unique.map((r) => checkMxHost(canonicalName(r.exchange), r.priority, deps, add)),
  );
  return { hosts: unique.map((r) => canonicalName(r.exchange)), views, findings };
}

async function checkMxHost(
  host: string,
  priority: number,
  deps: CheckDeps,
  add: (step: CheckStep, code: string, details?: FindingDetails) => void,
): Promise<MxView> {
  const [a, aaaa] = await Promise.all([deps.dns.a(host), deps.dns.aaaa(host)]);
  const addresses = [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])];
  const view: MxView = { host, priority, addresses, smtp: [] };
  if (addresses.length === 0) {
    const failed = [a, aaaa].find((x) => x.status === 'error');
    if (failed && failed.status === 'error')
      add('mx', 'mx.host-lookup-failed', {
        message: `address lookup of MX host ${host} failed: ${failed.error} (${failed.detail})`,
        subject: host,
      });
    else
      add('mx', 'mx.host-unresolvable', {
        message: `MX host ${host} has no A or AAAA record`,
        subject: host,
      });
    return view;
  }
  for (const x of [a, aaaa]) {
    if (x.status === 'error')
      add('mx', 'mx.host-lookup-failed', {
        message: `one address lookup of MX host ${host} failed: ${x.error}`,
        subject: host,
        severity: 'warning',
      });
  }
  if (!deps.prober) return view;
  const prober = deps.prober;
  const now = deps.now ?? (() => new Date());
  view.smtp = await Promise.all(
    addresses.map(async (address) => judgeProbe(await prober.probe(host, address), host, now(), add)),
  );
  return view;
}

function judgeProbe(
  r: SmtpProbeResult,
  host: string,
  now: Date,
  add: (step: CheckStep, code: string, details?: FindingDetails) => void,
): SmtpView {
  const subject = `${host} (${r.address})`;
  const view: SmtpView = { address: r.address, starttls: r.starttls };
  if (r.banner !== undefined) view.banner = r.banner;
  if (r.failure) view.error = failureView(r.failure);
  const f = r.failure;
  if (
    f &&
    (f.stage === 'connect' ||
      (f.stage === 'timeout' && r.banner === undefined) ||
      (f.stage === 'banner' && r.banner === undefined))
  ) {
    add('starttls', 'smtp.connect-failed', {
      message: `${subject}: ${f.stage === 'connect' ? 'connection failed' : 'no SMTP greeting'}: ${f.code} ${f.detail}`,
      subject,
    });
    return view;
  }
  if (r.starttls === 'not-offered' || r.starttls === 'refused') {
    add('starttls', 'smtp.starttls-missing', {
      message:
        r.starttls === 'refused'
          ? `${subject} refused STARTTLS${f ? `: ${f.detail}` : ''}`
          : `${subject} does not offer STARTTLS in its EHLO reply`,
      subject,
    });
    return view;
  }
  if (f && !r.tls) {
    if (f.code === 'tls-version')
      add('starttls', 'smtp.tls-version', {
        message: `TLS older than 1.2 only: ${f.detail}`,
        subject,
      });
    else if (f.stage === 'tls')
      add('starttls', 'smtp.tls-failed', {
        message: `${subject}: TLS handshake failed: ${f.code} ${f.detail}`,
        subject,
      });
    else if (f.stage === 'timeout')
      add('starttls', 'smtp.connect-failed', {
        message: `${subject}: no answer in time during the SMTP dialogue (${f.detail})`,
        subject,
      });
    else
      add('starttls', 'smtp.protocol', { message: `${subject}: ${f.stage}: ${f.code} ${f.detail}`, subject });
    if (f.tls) view.tls = tlsView(f.tls);
    return view;
  }
  if (!r.tls) return view;
  const assessment = assessCertificate(r.tls, host, now);
  view.tls = tlsView(r.tls, assessment);
  if (f?.code === 'tls-version')
    add('starttls', 'smtp.tls-version', { message: `${subject} negotiated ${r.tls.protocol}`, subject });
  certificateFindings('starttls', 'smtp', subject, host, subject, assessment, add);
  if (
    !assessment.problems.includes('expired') &&
    assessment.daysLeft !== undefined &&
    assessment.daysLeft < EXPIRY_WARNING_DAYS
  ) {
    add('starttls', 'smtp.cert-expiring', {
      message: `the certificate of ${subject} expires in ${assessment.daysLeft} days (${assessment.validTo})`,
      subject,
    });
  }
  return view;
}

/**
 * The findings for what assessCertificate found, for the policy host (policy.cert-*) or an MX
 * (smtp.cert-*): `label` names the peer in messages, `host` is the name it must be valid for.
 */
function certificateFindings(
  step: CheckStep,
  prefix: 'policy' | 'smtp',
  label: string,
  host: string,
  subject: string,
  assessment: CertificateAssessment,
  add: (step: CheckStep, code: string, details?: FindingDetails) => void,
): void {
  for (const p of assessment.problems) {
    if (p === 'untrusted' || p === 'no-certificate') {
      const why = assessment.verifyError ? ` (${assessment.verifyError})` : '';
      add(step, `${prefix}.cert-untrusted`, {
        message: `the certificate of ${label} does not chain to a trusted root${why}`,
        subject,
      });
    } else if (p === 'expired') {
      add(step, `${prefix}.cert-expired`, {
        message: `the certificate of ${label} expired on ${assessment.validTo}`,
        subject,
      });
    } else if (p === 'not-yet-valid') {
      add(step, `${prefix}.cert-expired`, {
        message: `the certificate of ${label} is not valid yet`,
        subject,
      });
    } else if (p === 'name-mismatch') {
      const names = assessment.dnsNames.join(', ') || 'no DNS name';
      add(step, `${prefix}.cert-name-mismatch`, {
        message: `the certificate of ${label} is valid for ${names}, not ${host}`,
        subject,
      });
    }
  }
}

function judgeTlsrpt(
  domain: string,
  answer: DnsAnswer<string[]>,
  legacy: DnsAnswer<string[]>,
  report: CheckReport,
  add: (step: CheckStep, code: string, details?: FindingDetails) => void,
  findings: CheckFinding[],
): void {
  const name = report.tlsrpt.name;
  const legacyName = `_smtp-tlsrpt.${domain}`;
  const legacyRecords = txtTexts(legacy).filter((t) => t.startsWith('v=TLSRPTv1'));
  if (legacyRecords.length > 0) {
    add('tlsrpt', 'tlsrpt-record.legacy-name', {
      message: `${legacyName} has "${legacyRecords[0]}"; senders only read ${name}`,
      subject: legacyName,
    });
  }
  if (answer.status === 'error') {
    add('tlsrpt', 'tlsrpt-record.lookup-failed', {
      message: `TXT lookup of ${name} failed: ${answer.error} (${answer.detail})`,
      subject: name,
    });
    return;
  }
  if (answer.status !== 'ok' || !answer.records.some((r) => joinTxtStrings(r).startsWith('v=TLSRPTv1'))) {
    add('tlsrpt', 'tlsrpt-record.absent', {
      message: `no v=TLSRPTv1 record at ${name}: failures will go unreported`,
      subject: name,
    });
    return;
  }
  const parsed = parseTlsrptRecords(answer.records);
  for (const f of parsed.findings) findings.push({ ...f, subject: f.subject ?? name, step: 'tlsrpt' });
  if (!parsed.ok) return;
  report.tlsrpt.value = parsed.value;
  for (const uri of parsed.value.rua) {
    if (!uri.toLowerCase().startsWith('mailto:')) continue;
    const encoded = uri.slice(7).split('?')[0]!;
    let address = encoded;
    try {
      address = decodeURIComponent(encoded);
    } catch {
      // A %XX sequence that is not UTF-8: compare the text as published.
    }
    const mailDomain = canonicalName(address.slice(address.lastIndexOf('@') + 1));
    if (mailDomain === domain) {
      add('tlsrpt', 'tlsrpt-record.rua-self-domain', {
        message: `reports go to ${address}, on ${domain} itself: a delivery failure to ${domain} also stops its reports`,
        subject: uri,
      });
    }
  }
}
