// Generated RFC 8460 reports for `mta-sts demo` and the benchmark: what several large senders
// would mail for the simulated domains, with failures for a broken MX. Deterministic: the
// same inputs give the same reports, byte for byte.

export interface DemoDomain {
  domain: string;
  /** The policy mode; 'none' makes senders report no-policy-found. */
  mode: string;
  /** The domain's MX host names (also its policy's mx patterns). */
  mx: string[];
  /** An MX that senders fail on, and how (an RFC 8460 §4.3 result type). */
  failingMx?: { host: string; resultType: string };
}

export interface DemoReportOptions {
  domains: DemoDomain[];
  /** The first day reported (its UTC date is used). */
  start: Date;
  days: number;
}

const ORGANIZATIONS = [
  { name: 'Google Inc.', contact: 'smtp-tls-reporting@google.com', volume: 180, ip: '209.85.220.' },
  { name: 'Microsoft Corporation', contact: 'tlsrpt-noreply@microsoft.com', volume: 90, ip: '40.107.22.' },
  { name: 'Mail.ru', contact: 'tls_support@corp.mail.ru', volume: 25, ip: '94.100.180.' },
  { name: 'Comcast', contact: 'tlsrpt@comcast.net', volume: 12, ip: '96.114.154.' },
] as const;

/** A small seeded PRNG (mulberry32): reproducible figures without Math.random. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function reportId(org: string, domain: string, day: string, rand: () => number): string {
  if (org.startsWith('Google')) return `${day}T00:00:00Z_${domain}`;
  if (org.startsWith('Microsoft')) return `${1337 + Math.floor(rand() * 1e14)}+${domain}`;
  if (org === 'Mail.ru')
    return `${hex(rand, 8)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 12)}@mail.ru`;
  return `${day}.${hex(rand, 10)}@${org.toLowerCase()}.net`;
}

export function generateDemoReports(options: DemoReportOptions): object[] {
  const reports: object[] = [];
  const base = Date.UTC(
    options.start.getUTCFullYear(),
    options.start.getUTCMonth(),
    options.start.getUTCDate(),
  );
  for (let d = 0; d < options.days; d++) {
    const dayStart = new Date(base + d * 86_400_000);
    const day = dayStart.toISOString().slice(0, 10);
    for (const dom of options.domains) {
      for (const org of ORGANIZATIONS) {
        const rand = prng(hash(`${org.name}|${dom.domain}|${day}`));
        const mxs = dom.mx.map((h) => h.toLowerCase());
        let successful = 0;
        let failed = 0;
        const failureDetails: object[] = [];
        for (const mx of mxs) {
          const sessions = Math.max(1, Math.round(org.volume * (0.5 + rand())));
          if (dom.failingMx && dom.failingMx.host.toLowerCase() === mx) {
            failed += sessions;
            failureDetails.push({
              'result-type': dom.failingMx.resultType,
              'sending-mta-ip': `${org.ip}${1 + Math.floor(rand() * 250)}`,
              'receiving-mx-hostname': mx,
              'failed-session-count': sessions,
              ...(dom.failingMx.resultType.startsWith('sts-policy')
                ? {}
                : { 'failure-reason-code': failureReason(dom.failingMx.resultType) }),
            });
          } else successful += sessions;
        }
        const policy =
          dom.mode === 'none'
            ? { 'policy-type': 'no-policy-found', 'policy-domain': dom.domain }
            : {
                'policy-type': 'sts',
                'policy-string': [
                  'version: STSv1',
                  `mode: ${dom.mode}`,
                  ...mxs.map((m) => `mx: ${m}`),
                  'max_age: 86400',
                ],
                'policy-domain': dom.domain,
                'mx-host': mxs,
              };
        // Mail.ru ends its range at the next midnight, as the real reports do.
        const end =
          org.name === 'Mail.ru'
            ? new Date(dayStart.getTime() + 86_400_000).toISOString().replace('.000Z', 'Z')
            : `${day}T23:59:59Z`;
        reports.push({
          'organization-name': org.name,
          'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': end },
          'contact-info': org.contact,
          'report-id': reportId(org.name, dom.domain, day, rand),
          policies: [
            {
              policy,
              summary: {
                'total-successful-session-count': successful,
                'total-failure-session-count': failed,
              },
              ...(failureDetails.length > 0 ? { 'failure-details': failureDetails } : {}),
            },
          ],
        });
      }
    }
  }
  return reports;
}

function failureReason(resultType: string): string {
  switch (resultType) {
    case 'certificate-expired':
      return 'X509_V_ERR_CERT_HAS_EXPIRED';
    case 'certificate-not-trusted':
      return 'X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN';
    case 'certificate-host-mismatch':
      return 'X509_V_ERR_HOSTNAME_MISMATCH';
    case 'starttls-not-supported':
      return 'STARTTLS not offered in EHLO response';
    default:
      return resultType;
  }
}
