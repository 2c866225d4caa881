// The catalogue of every finding code: its severity, the RFC section it rests on, a one-line
// message, and a hint on how to fix it. Codes are stable: tools and tests rely on them.

export type Severity = 'error' | 'warning' | 'info';

/** RFC 8460 §4.3 result types: the live check speaks the same words as the TLS reports. */
export type ResultType =
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required';

export interface CatalogueEntry {
  severity: Severity;
  rfc?: string;
  message: string;
  hint?: string;
  resultType?: ResultType;
}

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  hint?: string;
  rfc?: string;
  resultType?: ResultType;
  /** What the finding is about: an MX host, an address, a record name, a file. */
  subject?: string;
  /** 1-based position in the input text, where it applies. */
  line?: number;
  column?: number;
}

const R8461 = (s: string) => `RFC 8461 §${s}`;
const R8460 = (s: string) => `RFC 8460 §${s}`;

export const CATALOGUE = {
  // _mta-sts TXT record (RFC 8461 §3.1)
  'sts-record.syntax': {
    severity: 'error',
    rfc: R8461('3.1'),
    message: 'The MTA-STS TXT record is malformed',
    hint: 'Publish exactly "v=STSv1; id=<1-32 letters or digits>" (fields separated by ";").',
  },
  'sts-record.version': {
    severity: 'error',
    rfc: R8461('3.1'),
    message: 'No TXT record begins with "v=STSv1"',
    hint: 'The record must start with exactly "v=STSv1;" (case-sensitive, first field).',
  },
  'sts-record.id': {
    severity: 'error',
    rfc: R8461('3.1'),
    message: 'The id field is missing or invalid',
    hint: 'Use 1 to 32 ASCII letters and digits, e.g. a UTC timestamp such as 20261130120000Z.',
  },
  'sts-record.multiple': {
    severity: 'error',
    rfc: R8461('3.1'),
    message: 'More than one TXT record begins with "v=STSv1": senders treat the domain as having no policy',
    hint: 'Delete all but one v=STSv1 record at _mta-sts.<domain>.',
  },
  'sts-record.duplicate-field': {
    severity: 'warning',
    rfc: R8461('3.1'),
    message: 'A field appears more than once; the first occurrence wins',
    hint: 'Remove the repeated field.',
  },
  'sts-record.unknown-field': {
    severity: 'info',
    rfc: R8461('3.1'),
    message: 'An extension field that senders ignore',
  },
  'sts-record.absent': {
    severity: 'info',
    rfc: R8461('3.1'),
    message: 'No _mta-sts TXT record: the domain does not publish MTA-STS',
    hint: 'Publish "_mta-sts.<domain> TXT v=STSv1; id=…" once the policy file is served.',
  },
  'sts-record.lookup-failed': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The _mta-sts TXT lookup failed (could not tell whether a record exists)',
    hint: 'Check the authoritative name servers: SERVFAIL and timeouts make senders fall back to cached or no policy.',
    resultType: 'sts-policy-fetch-error',
  },
  'sts-record.at-apex': {
    severity: 'error',
    rfc: R8461('3.1'),
    message: 'A v=STSv1 record is published at the domain itself instead of at _mta-sts.<domain>',
    hint: 'Move the record to the _mta-sts label.',
  },

  // Policy file (RFC 8461 §3.2)
  'policy.syntax': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'A line is not of the form "key: value"',
    hint: 'Policy files allow no comments, blank lines, leading spaces or space before the colon.',
  },
  'policy.encoding': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'The policy file is not valid UTF-8 text',
    hint: 'Save the file as plain UTF-8 (or ASCII) text.',
  },
  'policy.version': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'The version field is missing or not exactly "STSv1"',
    hint: 'Add the line "version: STSv1".',
  },
  'policy.mode': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'The mode field is missing or not exactly "enforce", "testing" or "none"',
    hint: 'Add one line "mode: testing" (or enforce, or none), lowercase, with nothing after the value.',
  },
  'policy.max-age': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'The max_age field is missing, not plain digits, or above 31557600',
    hint: 'Use "max_age: 604800" (one week) or any whole number of seconds up to 31557600 (one year).',
  },
  'policy.mx-missing': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'No mx line although mode is not "none"',
    hint: 'Add one "mx: <host>" line per MX host (or a "*.<parent>" pattern).',
  },
  'policy.mx-invalid': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'An mx value is not a host name or "*." pattern in A-label form',
    hint: 'Write the MX host name as in the MX record, lowercase A-labels, without trailing dot; a wildcard is only "*." before a parent name.',
  },
  'policy.mx-duplicate': {
    severity: 'info',
    rfc: R8461('3.2'),
    message: 'The same mx pattern is listed twice',
    hint: 'Remove the repeated line.',
  },
  'policy.duplicate-field': {
    severity: 'warning',
    rfc: R8461('3.2'),
    message: 'A single-valued field appears more than once; the first occurrence wins',
    hint: 'Keep one line per field (only mx may repeat).',
  },
  'policy.unknown-field': {
    severity: 'info',
    rfc: R8461('3.2'),
    message: 'An extension field that senders ignore',
  },
  'policy.too-large': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy is larger than 64 KiB; senders stop reading there',
    hint: 'A policy needs a few hundred bytes: list MX patterns, not data.',
    resultType: 'sts-policy-invalid',
  },
  'policy.mode-testing': {
    severity: 'warning',
    rfc: R8461('5'),
    message: 'Mode is "testing": senders report failures but deliver anyway',
    hint: 'Move to "mode: enforce" once TLS reports show no failures.',
  },
  'policy.mode-none': {
    severity: 'warning',
    rfc: R8461('8.3'),
    message: 'Mode is "none": the policy is being withdrawn and protects nothing',
  },
  'policy.max-age-short': {
    severity: 'warning',
    rfc: R8461('3.2'),
    message: 'max_age is short: senders will hold the policy only briefly, weakening protection',
    hint: 'Use at least 604800 (one week) with enforce; RFC 8461 suggests weeks or more.',
  },
  'policy.empty': {
    severity: 'error',
    rfc: R8461('3.2'),
    message: 'The policy file is empty',
    hint: 'A policy needs version, mode, mx and max_age lines.',
  },

  // MX coverage (RFC 8461 §4.1)
  'mx.not-covered': {
    severity: 'error',
    rfc: R8461('4.1'),
    message: 'An MX host matches no mx pattern of the policy: senders will refuse to deliver to it',
    hint: 'Add an "mx:" line for this host, or remove the MX record.',
    resultType: 'validation-failure',
  },
  'mx.pattern-unused': {
    severity: 'info',
    rfc: R8461('4.1'),
    message: 'An mx pattern matches none of the MX hosts',
    hint: 'Remove stale patterns once no MX uses them.',
  },

  // _smtp._tls TXT record (RFC 8460 §3)
  'tlsrpt-record.version': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'No TXT record begins with "v=TLSRPTv1"',
    hint: 'The record must start with exactly "v=TLSRPTv1;".',
  },
  'tlsrpt-record.syntax': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'The TLS-RPT TXT record is malformed',
    hint: 'Publish "v=TLSRPTv1; rua=mailto:tlsrpt@example.net".',
  },
  'tlsrpt-record.multiple': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'More than one TXT record begins with "v=TLSRPTv1": senders treat the domain as not reporting',
    hint: 'Keep exactly one v=TLSRPTv1 record; list several URIs in one rua, separated by commas.',
  },
  'tlsrpt-record.rua-missing': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'The record has no rua field: reports have nowhere to go',
    hint: 'Add "rua=mailto:<address>" or "rua=https://<receiver>".',
  },
  'tlsrpt-record.rua-invalid': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'A rua URI is not a valid mailto: or https: URI',
    hint: 'Use "mailto:user@host" or "https://host/path"; percent-encode ",", "!" and ";" inside a URI.',
  },
  'tlsrpt-record.duplicate-field': {
    severity: 'warning',
    rfc: R8460('3'),
    message: 'A field appears more than once; the first occurrence wins',
  },
  'tlsrpt-record.unknown-field': {
    severity: 'info',
    rfc: R8460('3'),
    message: 'An extension field that senders ignore',
  },

  // Live check (RFC 8461 §3.3 fetch, §4 MX validation; RFC 8460 §4.3 result types)
  'policy.host-unresolvable': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host mta-sts.<domain> has no A or AAAA record',
    hint: 'Point mta-sts.<domain> at the web server that serves the policy (CNAME, A or AAAA).',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.host-lookup-failed': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The address lookup of mta-sts.<domain> failed (SERVFAIL or timeout)',
    hint: 'Check the authoritative name servers for the policy host name.',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.connect-failed': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'Could not connect to the policy host over HTTPS (TCP or TLS handshake failed)',
    hint: 'Make sure an HTTPS server listens on port 443 of mta-sts.<domain> with a certificate for that name.',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.timeout': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host gave no complete answer in time',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.http-invalid': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host sent a malformed HTTP response',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.cert-untrusted': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host certificate does not chain to a trusted root',
    hint: "Use a certificate from a public CA (e.g. Let's Encrypt) and serve the full chain.",
    resultType: 'sts-webpki-invalid',
  },
  'policy.cert-expired': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host certificate is expired or not yet valid',
    hint: 'Renew the certificate (and automate renewal).',
    resultType: 'sts-webpki-invalid',
  },
  'policy.cert-name-mismatch': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host certificate is not valid for mta-sts.<domain>',
    hint: 'The certificate must list mta-sts.<domain> (or *.<domain>) as a subjectAltName.',
    resultType: 'sts-webpki-invalid',
  },
  'policy.tls-version': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy host offers only TLS versions older than 1.2',
    hint: 'Enable TLS 1.2 and 1.3 on the web server.',
    resultType: 'sts-webpki-invalid',
  },
  'policy.http-status': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy URL did not answer 200 OK',
    hint: 'Serve the file at exactly /.well-known/mta-sts.txt with status 200.',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.redirect': {
    severity: 'error',
    rfc: R8461('3.3'),
    message: 'The policy URL answers with a redirect, which senders must not follow',
    hint: 'Serve the policy directly at https://mta-sts.<domain>/.well-known/mta-sts.txt (no redirect, not even to HTTPS or www).',
    resultType: 'sts-policy-fetch-error',
  },
  'policy.content-type': {
    severity: 'warning',
    rfc: R8461('3.2'),
    message: 'The policy is not served as text/plain',
    hint: 'Configure the web server to send Content-Type: text/plain for mta-sts.txt.',
  },
  'mx.lookup-failed': {
    severity: 'error',
    rfc: R8461('4'),
    message: 'The MX lookup failed (SERVFAIL or timeout): could not tell which hosts receive mail',
  },
  'mx.implicit': {
    severity: 'info',
    rfc: 'RFC 5321 §5.1',
    message: 'No MX records: the domain itself is the implicit MX host',
  },
  'mx.null': {
    severity: 'info',
    rfc: 'RFC 7505',
    message: 'The domain publishes a null MX: it accepts no mail',
  },
  'mx.domain-nxdomain': {
    severity: 'error',
    message: 'The domain does not exist (NXDOMAIN)',
  },
  'mx.host-unresolvable': {
    severity: 'error',
    rfc: 'RFC 5321 §5.1',
    message: 'An MX host has no A or AAAA record',
    hint: 'Fix the MX record or publish the host address.',
  },
  'mx.host-lookup-failed': {
    severity: 'error',
    message: 'The address lookup of an MX host failed (SERVFAIL or timeout)',
  },
  'smtp.connect-failed': {
    severity: 'error',
    rfc: 'RFC 5321 §3.1',
    message: 'An MX address refused the connection or did not answer on port 25',
  },
  'smtp.protocol': {
    severity: 'error',
    rfc: 'RFC 5321 §4.2',
    message: 'An MX host answered with something that is not a valid SMTP reply',
  },
  'smtp.starttls-missing': {
    severity: 'error',
    rfc: 'RFC 3207',
    message: 'The MX host does not offer STARTTLS, or refused it',
    hint: 'Enable STARTTLS on the mail server (e.g. Postfix smtpd_tls_security_level = may).',
    resultType: 'starttls-not-supported',
  },
  'smtp.tls-failed': {
    severity: 'error',
    rfc: 'RFC 3207',
    message: 'The TLS handshake after STARTTLS failed',
    resultType: 'validation-failure',
  },
  'smtp.tls-version': {
    severity: 'error',
    rfc: R8461('4.2'),
    message: 'The MX host offers only TLS versions older than 1.2',
    hint: 'Enable TLS 1.2 and 1.3 on the mail server.',
    resultType: 'validation-failure',
  },
  'smtp.cert-untrusted': {
    severity: 'error',
    rfc: R8461('4.2'),
    message: 'The MX certificate does not chain to a trusted root',
    hint: 'Use a certificate from a public CA and serve the full chain.',
    resultType: 'certificate-not-trusted',
  },
  'smtp.cert-expired': {
    severity: 'error',
    rfc: R8461('4.2'),
    message: 'The MX certificate is expired or not yet valid',
    hint: 'Renew the certificate (and automate renewal).',
    resultType: 'certificate-expired',
  },
  'smtp.cert-name-mismatch': {
    severity: 'error',
    rfc: R8461('4.2'),
    message: 'The MX certificate is not valid for the MX host name',
    hint: 'The certificate must list the MX host name as a subjectAltName.',
    resultType: 'certificate-host-mismatch',
  },
  'smtp.cert-expiring': {
    severity: 'warning',
    message: 'The MX certificate expires within 14 days',
    hint: 'Renew it now; an expired certificate makes senders with an enforce policy stop delivering.',
  },
  'tlsrpt-record.absent': {
    severity: 'warning',
    rfc: R8460('3'),
    message: 'No _smtp._tls record: failures will go unreported',
    hint: 'Publish "_smtp._tls.<domain> TXT v=TLSRPTv1; rua=mailto:<mailbox on another domain>".',
  },
  'tlsrpt-record.lookup-failed': {
    severity: 'warning',
    rfc: R8460('3'),
    message: 'The _smtp._tls lookup failed (SERVFAIL or timeout)',
  },
  'tlsrpt-record.legacy-name': {
    severity: 'error',
    rfc: R8460('3'),
    message: 'A TLS-RPT record is published at the draft name _smtp-tlsrpt, which senders do not read',
    hint: 'Publish it at _smtp._tls.<domain> instead.',
  },
  'tlsrpt-record.rua-self-domain': {
    severity: 'warning',
    rfc: R8460('3'),
    message:
      'A mailto: report address is on the policy domain itself, which cannot receive reports about its own delivery failures',
    hint: 'Put the report mailbox on another domain (or use an https: rua).',
  },
  'policy.unannounced': {
    severity: 'info',
    rfc: R8461('8.1'),
    message: 'A valid policy is served but no _mta-sts record announces it',
    hint: 'Publish "_mta-sts.<domain> TXT v=STSv1; id=…" to turn MTA-STS on (or remove the policy host if MTA-STS was withdrawn).',
  },
  'check.internal-error': {
    severity: 'error',
    message: 'The check of this domain stopped on an unexpected error (a bug: please report it)',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type CatalogueCode = keyof typeof CATALOGUE;

/** Codes added by modules outside the core register here (checker, set-up, reports). */
const extraEntries = new Map<string, CatalogueEntry>();

export function registerFindingCodes(entries: Record<string, CatalogueEntry>): void {
  for (const [code, entry] of Object.entries(entries)) {
    if (code in CATALOGUE || extraEntries.has(code)) {
      const existing = lookupCode(code);
      if (existing && existing.severity === entry.severity && existing.message === entry.message) continue;
      throw new Error(`finding code ${code} registered twice with different definitions`);
    }
    extraEntries.set(code, entry);
  }
}

export function lookupCode(code: string): CatalogueEntry | undefined {
  return (CATALOGUE as Record<string, CatalogueEntry>)[code] ?? extraEntries.get(code);
}

export function allFindingCodes(): Array<[string, CatalogueEntry]> {
  return [...Object.entries(CATALOGUE as Record<string, CatalogueEntry>), ...extraEntries.entries()];
}

export interface FindingDetails {
  /** Replaces the catalogue message (say what exactly was wrong). */
  message?: string;
  hint?: string;
  subject?: string;
  line?: number;
  column?: number;
  /** Overrides the catalogue severity where the rule depends on context (e.g. testing vs enforce). */
  severity?: Severity;
}

/** Build a finding from the catalogue; unknown codes are a programming error. */
export function finding(code: string, details: FindingDetails = {}): Finding {
  const entry = lookupCode(code);
  if (!entry) throw new Error(`unknown finding code: ${code}`);
  const f: Finding = {
    code,
    severity: details.severity ?? entry.severity,
    message: details.message ?? entry.message,
  };
  const hint = details.hint ?? entry.hint;
  if (hint) f.hint = hint;
  if (entry.rfc) f.rfc = entry.rfc;
  if (entry.resultType) f.resultType = entry.resultType;
  if (details.subject !== undefined) f.subject = details.subject;
  if (details.line !== undefined) f.line = details.line;
  if (details.column !== undefined) f.column = details.column;
  return f;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** The result of every parser: a value with its findings, or the findings that stopped it. */
export type ParseResult<T> =
  | { ok: true; value: T; findings: Finding[] }
  | { ok: false; findings: Finding[]; partial?: Partial<T> };
