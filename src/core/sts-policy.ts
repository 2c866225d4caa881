// The MTA-STS policy file (RFC 8461 §3.2), served at https://mta-sts.<domain>/.well-known/mta-sts.txt.
import { type Finding, finding, hasErrors, type ParseResult } from './findings.js';
import { mxPatternProblem } from './mx-pattern.js';

export type StsMode = 'enforce' | 'testing' | 'none';

export interface StsPolicyExtension {
  name: string;
  value: string;
}

export interface StsPolicy {
  version: 'STSv1';
  mode: StsMode;
  /** MX patterns in file order, as written (compare them case-insensitively). */
  mx: string[];
  /** Seconds. */
  maxAge: number;
  extensions: StsPolicyExtension[];
}

/** RFC 8461 §3.3: senders read at most 64 KiB of policy. */
export const MAX_POLICY_BYTES = 64 * 1024;
/** RFC 8461 §3.2: max_age at most 31557600 seconds (about one year). */
export const MAX_AGE_LIMIT = 31_557_600;
/** Below these, protection is weak (the RFC's advice is weeks). */
export const RECOMMENDED_MIN_MAX_AGE = { enforce: 604_800, other: 86_400 } as const;

const MODES: readonly string[] = ['enforce', 'testing', 'none'];
const KNOWN = ['version', 'mode', 'max_age', 'mx'] as const;
type KnownKey = (typeof KNOWN)[number];
const FIELD = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/s;
// sts-policy-ext-value: visible characters (UTF-8 allowed), inner spaces/tabs, no controls.
const EXT_VALUE = /^[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$/u;
const MAX_REPORTED_SYNTAX = 100;

export interface ParsePolicyOptions {
  /**
   * The sender's reading (design.md §4): lines that are not one of the four known fields and
   * do not parse are ignored (reported as warnings), but a missing or malformed version, mode,
   * max_age or mx still makes the policy invalid.
   */
  lenient?: boolean;
}

function describeBadLine(line: string): string {
  if (line.length === 0) return 'blank line (the grammar allows none)';
  if (line.startsWith('\uFEFF')) return 'byte-order mark at the start of the file';
  if (/^[ \t]/.test(line)) return 'line starts with whitespace';
  if (line.startsWith('#')) return 'comment line (the grammar has no comments)';
  if (line.includes('\r')) return 'carriage return without line feed (lines end in LF or CRLF)';
  const bad = /[\x00-\x08\x0a-\x1f\x7f]/.exec(line);
  if (bad)
    return `control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in line`;
  const colon = line.indexOf(':');
  if (colon < 0) return `"${line.slice(0, 40)}" has no colon: lines are "key: value"`;
  const key = line.slice(0, colon);
  if (/[ \t]$/.test(key)) return `whitespace before the colon in "${line.slice(0, 40)}"`;
  if (key.length > 32) return `field name "${key.slice(0, 40)}…" is longer than 32 characters`;
  return `"${key.slice(0, 40)}" is not a valid field name`;
}

function decode(input: string | Uint8Array, findings: Finding[], lenient: boolean): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(input);
    const lines = text.split('\n');
    const lineNo = lines.findIndex((l) => l.includes('\uFFFD'));
    findings.push(
      finding('policy.encoding', {
        message: 'the file contains bytes that are not valid UTF-8',
        // The sender validates the four fields' values anyway; a bad byte elsewhere is ignored.
        ...(lenient ? { severity: 'warning' as const } : {}),
        ...(lineNo >= 0 ? { line: lineNo + 1, column: lines[lineNo]!.indexOf('\uFFFD') + 1 } : {}),
      }),
    );
    return text;
  }
}

function byteLength(input: string | Uint8Array): number {
  if (typeof input !== 'string') return input.byteLength;
  // Cheap upper bound first; only encode when it could matter.
  if (input.length * 3 <= MAX_POLICY_BYTES) return input.length;
  return new TextEncoder().encode(input).byteLength;
}

/** Parse and validate a policy file; every deviation from the grammar becomes a finding. */
export function parseStsPolicy(
  input: string | Uint8Array,
  options: ParsePolicyOptions = {},
): ParseResult<StsPolicy> {
  const size = byteLength(input);
  if (size > MAX_POLICY_BYTES) {
    return {
      ok: false,
      findings: [
        finding('policy.too-large', {
          message: `the policy is ${size} bytes, more than the 65536-byte limit`,
        }),
      ],
    };
  }
  const findings: Finding[] = [];
  const text = decode(input, findings, options.lenient === true);
  if (text.length === 0) return { ok: false, findings: [...findings, finding('policy.empty')] };

  // RFC 8461 §3.2 with erratum 6253: lines end in LF or CRLF; the last terminator is optional.
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const values: Partial<Record<KnownKey, { value: string; line: number; column: number; hint?: string }>> =
    {};
  const mx: string[] = [];
  const mxSeen = new Set<string>();
  const extensions: StsPolicyExtension[] = [];
  let syntaxCount = 0;
  let mxLines = 0;
  // The sender ignores a stray line, but a malformed line of one of the four fields (" mx: …",
  // "mode :enforce") stays an error: skipping it would silently narrow or change the policy.
  const syntax = (line: number, column: number, message: string, knownField = false) => {
    syntaxCount++;
    if (syntaxCount <= MAX_REPORTED_SYNTAX) {
      findings.push(
        finding('policy.syntax', {
          message,
          line,
          column,
          ...(options.lenient && !knownField ? { severity: 'warning' } : {}),
        }),
      );
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = /[\r\x00-\x08\x0a-\x1f\x7f]/.test(line) || line.startsWith('\uFEFF') ? null : FIELD.exec(line);
    if (!m) {
      const key = line
        .replace(/^\uFEFF/, '')
        .split(':')[0]!
        .trim();
      syntax(
        lineNo,
        1,
        describeBadLine(line),
        line.includes(':') && (KNOWN as readonly string[]).includes(key),
      );
      continue;
    }
    const name = m[1]!;
    const value = m[2]!;
    const column = line.indexOf(value, name.length + 1) + 1 || name.length + 2;
    const commentHint = /(^|[ \t])#/.test(value)
      ? { hint: 'Policy files have no comments: "# …" becomes part of the value. Remove it.' }
      : {};
    if ((KNOWN as readonly string[]).includes(name)) {
      const key = name as KnownKey;
      if (key === 'mx') {
        mxLines++;
        const problem = mxPatternProblem(value);
        if (problem) {
          findings.push(
            finding('policy.mx-invalid', {
              message: `mx "${value}": ${problem}`,
              line: lineNo,
              column,
              ...commentHint,
            }),
          );
          continue;
        }
        const canonical = value.toLowerCase();
        if (mxSeen.has(canonical)) {
          findings.push(
            finding('policy.mx-duplicate', {
              message: `mx "${value}" is listed more than once`,
              line: lineNo,
              column,
            }),
          );
          continue;
        }
        mxSeen.add(canonical);
        mx.push(value);
        continue;
      }
      if (values[key]) {
        findings.push(
          finding('policy.duplicate-field', {
            message: `"${key}" appears again (first on line ${values[key]!.line}); the first one wins`,
            line: lineNo,
            column: 1,
          }),
        );
        continue;
      }
      values[key] = { value, line: lineNo, column, ...commentHint };
      continue;
    }
    if (!EXT_VALUE.test(value)) {
      syntax(lineNo, column, `extension field "${name}" has an empty value or a control character`);
      continue;
    }
    extensions.push({ name, value });
    const known = KNOWN.find((k) => k === name.toLowerCase());
    findings.push(
      finding('policy.unknown-field', {
        message: `extension field "${name}" is ignored by senders`,
        line: lineNo,
        column: 1,
        ...(known ? { hint: `Field names are case-sensitive: write "${known}".` } : {}),
      }),
    );
  }
  if (syntaxCount > MAX_REPORTED_SYNTAX) {
    findings.push(
      finding('policy.syntax', {
        message: `${syntaxCount - MAX_REPORTED_SYNTAX} more malformed lines not listed`,
        ...(options.lenient ? { severity: 'warning' as const } : {}),
      }),
    );
  }

  const partial: Partial<StsPolicy> = { extensions };
  const version = values.version;
  if (!version) findings.push(finding('policy.version', { message: 'the "version: STSv1" line is missing' }));
  else if (version.value !== 'STSv1') {
    findings.push(
      finding('policy.version', {
        message: `version must be exactly "STSv1", got "${version.value}"`,
        line: version.line,
        column: version.column,
        ...(version.hint ? { hint: version.hint } : {}),
      }),
    );
  } else partial.version = 'STSv1';

  const mode = values.mode;
  if (!mode) findings.push(finding('policy.mode', { message: 'the "mode" line is missing' }));
  else if (!MODES.includes(mode.value)) {
    const lower = mode.value.toLowerCase();
    const hint = MODES.includes(lower)
      ? `Values are case-sensitive: write "mode: ${lower}".`
      : (mode.hint ?? (/[|[\]]/.test(mode.value) ? 'Choose one of enforce, testing or none.' : undefined));
    findings.push(
      finding('policy.mode', {
        message: `mode must be exactly "enforce", "testing" or "none", got "${mode.value}"`,
        line: mode.line,
        column: mode.column,
        ...(hint ? { hint } : {}),
      }),
    );
  } else partial.mode = mode.value as StsMode;

  const maxAge = values.max_age;
  if (!maxAge) findings.push(finding('policy.max-age', { message: 'the "max_age" line is missing' }));
  else if (!/^\d{1,10}$/.test(maxAge.value)) {
    const why = /^\d+$/.test(maxAge.value) ? 'has more than 10 digits' : 'must be plain digits (seconds)';
    findings.push(
      finding('policy.max-age', {
        message: `max_age "${maxAge.value}" ${why}`,
        line: maxAge.line,
        column: maxAge.column,
        ...(maxAge.hint ? { hint: maxAge.hint } : {}),
      }),
    );
  } else if (Number(maxAge.value) > MAX_AGE_LIMIT) {
    findings.push(
      finding('policy.max-age', {
        message: `max_age ${Number(maxAge.value)} is above the limit of ${MAX_AGE_LIMIT}`,
        line: maxAge.line,
        column: maxAge.column,
      }),
    );
  } else partial.maxAge = Number(maxAge.value);

  if (mxLines === 0 && partial.mode !== 'none') {
    findings.push(
      finding('policy.mx-missing', {
        message: `no "mx" line${partial.mode ? ` although mode is "${partial.mode}"` : ''}`,
      }),
    );
  }
  partial.mx = mx;

  if (partial.mode === 'testing')
    findings.push(finding('policy.mode-testing', { line: mode!.line, column: mode!.column }));
  if (partial.mode === 'none')
    findings.push(finding('policy.mode-none', { line: mode!.line, column: mode!.column }));
  if (partial.mode && partial.maxAge !== undefined && partial.mode !== 'none') {
    const min = partial.mode === 'enforce' ? RECOMMENDED_MIN_MAX_AGE.enforce : RECOMMENDED_MIN_MAX_AGE.other;
    if (partial.maxAge < min) {
      findings.push(
        finding('policy.max-age-short', {
          message: `max_age ${partial.maxAge} is below ${min} seconds recommended for mode ${partial.mode}`,
          line: maxAge!.line,
          column: maxAge!.column,
        }),
      );
    }
  }

  if (hasErrors(findings) || !partial.version || !partial.mode || partial.maxAge === undefined) {
    return { ok: false, findings, partial };
  }
  return {
    ok: true,
    value: { version: 'STSv1', mode: partial.mode, mx, maxAge: partial.maxAge, extensions },
    findings,
  };
}

/** Canonical text: version, mode, one mx per line, max_age, then extensions; LF line ends. */
export function formatStsPolicy(
  policy: Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'> & Partial<Pick<StsPolicy, 'extensions'>>,
  lineEnding: '\n' | '\r\n' = '\n',
): string {
  const lines = [
    'version: STSv1',
    `mode: ${policy.mode}`,
    ...policy.mx.map((p) => `mx: ${p}`),
    `max_age: ${policy.maxAge}`,
  ];
  for (const ext of policy.extensions ?? []) lines.push(`${ext.name}: ${ext.value}`);
  return lines.map((l) => l + lineEnding).join('');
}

export interface PolicyOptions {
  mode: StsMode;
  mx: readonly string[];
  maxAge: number;
  extensions?: StsPolicyExtension[];
}

/** Build a policy from options, validated by the same rules (and codes) as a parsed file. */
export function buildStsPolicy(options: PolicyOptions): ParseResult<StsPolicy> & { text: string } {
  const text = formatStsPolicy({ ...options, mx: [...options.mx] });
  return { ...parseStsPolicy(text), text };
}

/** Two policies are the same for senders when these fields agree (mx compared case-insensitively, as a set). */
export function samePolicy(
  a: Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'>,
  b: Pick<StsPolicy, 'mode' | 'mx' | 'maxAge'>,
): boolean {
  const set = (l: readonly string[]) => [...new Set(l.map((x) => x.toLowerCase()))].sort().join(',');
  return a.mode === b.mode && a.maxAge === b.maxAge && set(a.mx) === set(b.mx);
}
