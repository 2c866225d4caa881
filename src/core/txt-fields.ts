// The "v=…; name=value; …" shape shared by the _mta-sts (RFC 8461 §3.1) and _smtp._tls
// (RFC 8460 §3) TXT records: a version token, then fields separated by *WSP ";" *WSP,
// with an optional trailing separator.

export interface TxtField {
  name: string;
  value: string;
  /** 1-based column of the field's first character in the joined record. */
  column: number;
}

export interface TxtFieldProblem {
  column: number;
  message: string;
}

import { type Finding, finding, type ParseResult } from './findings.js';

// Extension names: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
export const EXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
// Extension values: 1*(%x21-3A / %x3C / %x3E-7E): visible ASCII except ";" and "=".
export const EXT_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

/** Join the character-strings of one TXT record: no separator (RFC 7208 §3.3 style, RFC 8461 §3.1). */
export function joinTxtStrings(record: string | readonly string[]): string {
  return typeof record === 'string' ? record : record.join('');
}

/** Does the joined record begin with the version token (not a longer token such as v=STSv12)? */
export function beginsWithVersion(text: string, token: string): boolean {
  if (!text.startsWith(token)) return false;
  const next = text.charAt(token.length);
  return next === '' || !/[A-Za-z0-9_.-]/.test(next);
}

/**
 * RFC 8461 §3.1 / RFC 8460 §3: senders keep only the records that begin with the version and
 * ";" (white space before the ";" allowed, erratum 6285). A record that begins with the version
 * but not so is malformed: discarded by senders, reported by us.
 */
export function partitionVersionRecords(
  texts: readonly string[],
  token: string,
): { kept: string[]; malformed: string[] } {
  const kept: string[] = [];
  const malformed: string[] = [];
  for (const t of texts) {
    if (!beginsWithVersion(t, token)) continue;
    if (/^[ \t]*;/.test(t.slice(token.length))) kept.push(t);
    else malformed.push(t);
  }
  return { kept, malformed };
}

/** Split what follows the version token into fields, noting every deviation from the grammar. */
export function splitTxtFields(
  text: string,
  versionLength: number,
): { fields: TxtField[]; problems: TxtFieldProblem[] } {
  const fields: TxtField[] = [];
  const problems: TxtFieldProblem[] = [];
  const bad = /[^\x20-\x7e\t]/.exec(text);
  if (bad) {
    problems.push({
      column: bad.index + 1,
      message: `character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in the record`,
    });
  }
  const rest = text.slice(versionLength);
  const segments = rest.split(';');
  if (segments.length === 1) {
    if (rest.trim().length > 0) {
      problems.push({
        column: versionLength + 1,
        message: `the version must be followed by ";" (found "${rest.trim()}")`,
      });
    } else problems.push({ column: versionLength + 1, message: 'no fields after the version' });
    return { fields, problems };
  }
  if (!/^[ \t]*$/.test(segments[0]!)) {
    problems.push({
      column: versionLength + 1,
      message: `unexpected text "${segments[0]!.trim()}" after the version`,
    });
  }
  let offset = versionLength + segments[0]!.length + 1;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const start = offset;
    offset += seg.length + 1;
    const lead = /^[ \t]*/.exec(seg)![0].length;
    const body = seg.trim();
    if (body.length === 0) {
      if (i === segments.length - 1) break; // a trailing separator is allowed
      problems.push({ column: start + 1, message: 'empty field (two ";" in a row)' });
      continue;
    }
    const col = start + lead + 1;
    const eq = body.indexOf('=');
    if (eq <= 0) {
      problems.push({ column: col, message: `field "${body}" is not of the form name=value` });
      continue;
    }
    const name = body.slice(0, eq);
    const value = body.slice(eq + 1);
    if (!EXT_NAME.test(name)) {
      problems.push({ column: col, message: `"${name}" is not a valid field name` });
      continue;
    }
    fields.push({ name, value, column: col });
  }
  return { fields, problems };
}

export interface RecordCodes {
  syntax: string;
  duplicate: string;
  unknown: string;
  /** The record's own field names, to hint when one is written in the wrong case. */
  names: readonly string[];
}

/**
 * Walk the fields of a record: the first of a repeated field wins (a warning), a repeated
 * version is malformed, and fields `known` does not take are extensions (ignored by senders, an
 * info) whose value must fit the extension grammar. Returns the findings and the extensions.
 */
export function walkTxtFields(
  fields: readonly TxtField[],
  codes: RecordCodes,
  known: (field: TxtField, findings: Finding[]) => boolean,
): { findings: Finding[]; extensions: Record<string, string> } {
  const findings: Finding[] = [];
  const extensions: Record<string, string> = {};
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.name)) {
      findings.push(
        finding(codes.duplicate, {
          message: `field "${field.name}" appears again; the first one wins`,
          column: field.column,
        }),
      );
      continue;
    }
    seen.add(field.name);
    if (known(field, findings)) continue;
    if (field.name === 'v') {
      findings.push(
        finding(codes.syntax, { message: 'the version field appears again', column: field.column }),
      );
      continue;
    }
    if (!EXT_VALUE.test(field.value)) {
      findings.push(
        finding(codes.syntax, {
          message: `the value of extension field "${field.name}" is empty or has characters that are not allowed (space, "=", ";", control)`,
          column: field.column,
        }),
      );
      continue;
    }
    extensions[field.name] = field.value;
    const meant = codes.names.find((n) => n === field.name.toLowerCase());
    findings.push(
      finding(codes.unknown, {
        message: `extension field "${field.name}" is ignored by senders`,
        column: field.column,
        ...(meant ? { hint: `Field names are case-sensitive: write "${meant}".` } : {}),
      }),
    );
  }
  return { findings, extensions };
}

export interface RecordSetSpec<T> {
  /** 'v=STSv1' or 'v=TLSRPTv1'. */
  token: string;
  /** 'sts-record' or 'tlsrpt-record': the prefix of the syntax, version and multiple codes. */
  codePrefix: string;
  parseOne: (text: string) => ParseResult<T>;
  /** Why no record was taken for one when none begins with the token (a near miss), if any. */
  nearMiss: (text: string) => string | undefined;
}

/**
 * The record set at a name: keep the records that begin "<token>;", exactly one must remain
 * (RFC 8461 §3.1, RFC 8460 §3). `candidates` counts the records that were meant as one.
 */
export function parseRecordSet<T>(
  records: ReadonlyArray<string | readonly string[]>,
  spec: RecordSetSpec<T>,
): ParseResult<T> & { candidates: number } {
  const texts = records.map(joinTxtStrings);
  const { kept, malformed } = partitionVersionRecords(texts, spec.token);
  const discarded = malformed.map((m) =>
    finding(`${spec.codePrefix}.syntax`, {
      message: `"${m.slice(0, 60)}" begins with ${spec.token} but not "${spec.token};": senders discard it`,
      severity: kept.length > 0 ? 'warning' : 'error',
    }),
  );
  if (kept.length === 0 && malformed.length > 0) {
    // Nothing a sender would keep: show what is wrong with the record that was meant.
    return { ...spec.parseOne(malformed[0]!), candidates: malformed.length };
  }
  if (kept.length === 0) {
    const hint = texts.map(spec.nearMiss).find((m) => m !== undefined);
    const message =
      texts.length === 0
        ? 'No TXT record was given'
        : (hint ?? `None of the ${texts.length} TXT record(s) begins with "${spec.token}"`);
    return { ok: false, candidates: 0, findings: [finding(`${spec.codePrefix}.version`, { message })] };
  }
  if (kept.length > 1) {
    const f = finding(`${spec.codePrefix}.multiple`, {
      message: `${kept.length} TXT records begin with "${spec.token}": ${kept.map((c) => `"${c}"`).join(', ')}`,
    });
    return { ok: false, candidates: kept.length, findings: [f, ...discarded] };
  }
  const result = spec.parseOne(kept[0]!);
  return { ...result, findings: [...result.findings, ...discarded], candidates: 1 };
}
