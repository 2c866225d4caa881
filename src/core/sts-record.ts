// The _mta-sts TXT record (RFC 8461 §3.1).
import { type Finding, finding, hasErrors, type ParseResult } from './findings.js';
import { beginsWithVersion, parseRecordSet, splitTxtFields, walkTxtFields } from './txt-fields.js';

export interface StsRecord {
  version: 'STSv1';
  id: string;
  /** Extension fields, in order of appearance (ignored by senders). */
  extensions: Record<string, string>;
}

const VERSION = 'v=STSv1';
const ID = /^[A-Za-z0-9]{1,32}$/;

/** Explain why a TXT record that is not an STS record might have been meant as one. */
function nearMiss(text: string): string | undefined {
  if (/^v\s*=\s*stsv1/i.test(text))
    return `"${text.slice(0, 40)}" looks like an MTA-STS record but must begin with exactly "v=STSv1"`;
  if (text.includes('v=STSv1')) return `"${text.slice(0, 40)}" contains v=STSv1 but not as its first field`;
  return undefined;
}

/**
 * Parse the TXT records found at _mta-sts.<domain>. Each record is given as its list of
 * character-strings (joined without separator) or as one string. Records that do not begin
 * with v=STSv1 are discarded; exactly one must remain.
 */
export function parseStsRecords(
  records: ReadonlyArray<string | readonly string[]>,
): ParseResult<StsRecord> & {
  /** How many records began with v=STSv1. */
  candidates: number;
} {
  return parseRecordSet(records, {
    token: VERSION,
    codePrefix: 'sts-record',
    parseOne: parseStsRecord,
    nearMiss,
  });
}

/** Parse one joined record text that begins with v=STSv1. */
export function parseStsRecord(text: string): ParseResult<StsRecord> {
  const findings: Finding[] = [];
  if (!beginsWithVersion(text, VERSION)) {
    return {
      ok: false,
      findings: [
        finding('sts-record.version', {
          message: nearMiss(text) ?? `"${text.slice(0, 40)}" does not begin with "v=STSv1"`,
          column: 1,
        }),
      ],
    };
  }
  const { fields, problems } = splitTxtFields(text, VERSION.length);
  for (const p of problems)
    findings.push(finding('sts-record.syntax', { message: p.message, column: p.column }));
  let id: string | undefined;
  const walked = walkTxtFields(
    fields,
    {
      syntax: 'sts-record.syntax',
      duplicate: 'sts-record.duplicate-field',
      unknown: 'sts-record.unknown-field',
      names: ['v', 'id'],
    },
    (field, out) => {
      if (field.name !== 'id') return false;
      if (ID.test(field.value)) id = field.value;
      else {
        const why =
          field.value.length === 0
            ? 'is empty'
            : field.value.length > 32
              ? `is ${field.value.length} characters long (at most 32)`
              : 'may contain only ASCII letters and digits';
        out.push(finding('sts-record.id', { message: `id "${field.value}" ${why}`, column: field.column }));
        id = '';
      }
      return true;
    },
  );
  findings.push(...walked.findings);
  const extensions = walked.extensions;
  if (id === undefined) findings.push(finding('sts-record.id', { message: 'the record has no id field' }));
  if (hasErrors(findings) || !id)
    return { ok: false, findings, partial: { version: 'STSv1', ...(id ? { id } : {}), extensions } };
  return { ok: true, value: { version: 'STSv1', id, extensions }, findings };
}

/** The canonical text of a record: "v=STSv1; id=…" then any extensions. */
export function formatStsRecord(
  record: Pick<StsRecord, 'id'> & Partial<Pick<StsRecord, 'extensions'>>,
): string {
  const ext = Object.entries(record.extensions ?? {}).map(([k, v]) => `; ${k}=${v}`);
  return `v=STSv1; id=${record.id}${ext.join('')}`;
}
