// The _smtp._tls TXT record (RFC 8460 §3).
import { hostnameProblem } from './domain.js';
import { type Finding, finding, hasErrors, type ParseResult } from './findings.js';
import { beginsWithVersion, parseRecordSet, splitTxtFields, walkTxtFields } from './txt-fields.js';

export interface TlsrptRecord {
  version: 'TLSRPTv1';
  rua: string[];
  extensions: Record<string, string>;
}

const VERSION = 'v=TLSRPTv1';

// RFC 3986 characters (unreserved, sub-delims, ":", "@", "/", "?", "%XX"), less the three that
// RFC 8460 §3 requires to be percent-encoded inside a rua URI: "," "!" ";".
const URI_CHARS = /^(?:[A-Za-z0-9\-._~$&'()*+=:@/?]|%[0-9A-Fa-f]{2})*$/;
const MAILTO_LOCAL = /^(?:[A-Za-z0-9\-._~$&'*+=]|%[0-9A-Fa-f]{2})+$/;

/** Why a rua URI is not acceptable, or undefined when it is a valid mailto: or https: URI. */
export function ruaUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'empty URI';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) {
    if (uri.includes('@')) return `"${uri}" has no scheme: write "mailto:${uri}"`;
    return `"${uri}" is not a URI (no scheme)`;
  }
  for (const ch of ['!', ',', ';']) {
    const encoded = `%${ch.charCodeAt(0).toString(16).toUpperCase()}`;
    if (uri.includes(ch)) return `"${ch}" must be percent-encoded as ${encoded} inside a rua URI ("${uri}")`;
  }
  if (scheme === 'mailto') {
    const addr = uri.slice(7);
    const q = addr.indexOf('?');
    const mailbox = q >= 0 ? addr.slice(0, q) : addr;
    if (q >= 0 && !URI_CHARS.test(addr.slice(q + 1)))
      return `the query of "${uri}" has characters that must be encoded`;
    const at = mailbox.lastIndexOf('@');
    if (at <= 0) return `"${uri}" has no address of the form user@domain`;
    const local = mailbox.slice(0, at);
    const domain = mailbox.slice(at + 1);
    if (!MAILTO_LOCAL.test(local))
      return `the local part "${local}" has characters that must be percent-encoded`;
    const problem = hostnameProblem(domain.toLowerCase());
    if (problem) return `the domain "${domain}" of "${uri}" is invalid: ${problem}`;
    return undefined;
  }
  if (scheme === 'https') {
    if (!uri.toLowerCase().startsWith('https://')) return `"${uri}" must be of the form https://host/path`;
    const tail = uri.slice(8);
    const slash = tail.search(/[/?#]/);
    const authority = slash >= 0 ? tail.slice(0, slash) : tail;
    const pathEtc = slash >= 0 ? tail.slice(slash) : '';
    if (authority.includes('@')) return `"${uri}" must not carry user information`;
    const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(authority);
    if (!hostPort) return `"${uri}" has an invalid host`;
    const host = hostPort[1]!;
    if (!host.startsWith('[')) {
      const problem = hostnameProblem(host.toLowerCase());
      if (problem && !/^\d{1,3}(\.\d{1,3}){3}$/.test(host))
        return `the host "${host}" of "${uri}" is invalid: ${problem}`;
    }
    if (hostPort[2] && Number(hostPort[2]) > 65535) return `the port of "${uri}" is out of range`;
    const [beforeFragment, fragment, ...more] = pathEtc.split('#');
    if (more.length > 0) return `"${uri}" has more than one "#"`;
    if (!URI_CHARS.test(beforeFragment ?? '') || (fragment !== undefined && !URI_CHARS.test(fragment))) {
      return `"${uri}" has characters that must be percent-encoded`;
    }
    return undefined;
  }
  if (scheme === 'http') return `"${uri}" uses http: reports must be sent over https:`;
  return `"${uri}" uses the scheme "${scheme}": only mailto: and https: are defined`;
}

/** Parse the TXT records found at _smtp._tls.<domain>; exactly one must begin with v=TLSRPTv1. */
export function parseTlsrptRecords(
  records: ReadonlyArray<string | readonly string[]>,
): ParseResult<TlsrptRecord> & {
  candidates: number;
} {
  return parseRecordSet(records, {
    token: VERSION,
    codePrefix: 'tlsrpt-record',
    parseOne: parseTlsrptRecord,
    nearMiss: (t: string) =>
      /^v\s*=\s*tlsrptv1/i.test(t)
        ? `"${t.slice(0, 40)}" looks like a TLS-RPT record but must begin with exactly "v=TLSRPTv1"`
        : undefined,
  });
}

/** Parse one joined record text that begins with v=TLSRPTv1. */
export function parseTlsrptRecord(text: string): ParseResult<TlsrptRecord> {
  if (!beginsWithVersion(text, VERSION)) {
    return {
      ok: false,
      findings: [
        finding('tlsrpt-record.version', {
          message: `"${text.slice(0, 40)}" does not begin with "v=TLSRPTv1"`,
          column: 1,
        }),
      ],
    };
  }
  const findings: Finding[] = [];
  const { fields, problems } = splitTxtFields(text, VERSION.length);
  for (const p of problems)
    findings.push(finding('tlsrpt-record.syntax', { message: p.message, column: p.column }));
  let rua: string[] | undefined;
  const walked = walkTxtFields(
    fields,
    {
      syntax: 'tlsrpt-record.syntax',
      duplicate: 'tlsrpt-record.duplicate-field',
      unknown: 'tlsrpt-record.unknown-field',
      names: ['v', 'rua'],
    },
    (field, out) => {
      if (field.name !== 'rua') return false;
      // tlsrpt-rua = "rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
      const uris = field.value.split(',').map((u) => u.trim());
      for (const uri of uris) {
        const problem = ruaUriProblem(uri);
        if (problem)
          out.push(
            finding('tlsrpt-record.rua-invalid', { message: problem, column: field.column, subject: uri }),
          );
      }
      rua = uris;
      return true;
    },
  );
  findings.push(...walked.findings);
  const extensions = walked.extensions;
  if (rua === undefined) findings.push(finding('tlsrpt-record.rua-missing'));
  if (hasErrors(findings) || !rua)
    return { ok: false, findings, partial: { version: 'TLSRPTv1', ...(rua ? { rua } : {}), extensions } };
  return { ok: true, value: { version: 'TLSRPTv1', rua, extensions }, findings };
}

export function formatTlsrptRecord(
  record: Pick<TlsrptRecord, 'rua'> & Partial<Pick<TlsrptRecord, 'extensions'>>,
): string {
  const ext = Object.entries(record.extensions ?? {}).map(([k, v]) => `; ${k}=${v}`);
  return `v=TLSRPTv1; rua=${record.rua.join(',')}${ext.join('')}`;
}
