// Domain names: normalisation (lowercase, trailing dot, U-label to A-label) and the
// host-name grammar that MTA-STS uses (RFC 5321 "Domain", no address literals).

export type DomainResult = { ok: true; value: string } | { ok: false; reason: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Why a lowercase ASCII name is not a valid host name, or undefined when it is one. */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.length > 253) return `longer than 253 characters (${name.length})`;
  if (name.endsWith('.')) return 'trailing dot';
  if (name.startsWith('.')) return 'leading dot';
  if (name.includes(':') || name.startsWith('[')) return 'an IP address, not a host name';
  if (IPV4.test(name)) return 'an IP address, not a host name';
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return 'empty label (two dots in a row)';
    if (label.length > 63) return `label "${label.slice(0, 20)}…" longer than 63 characters`;
    if (!LABEL.test(label)) {
      if (/[^\x00-\x7f]/.test(label)) return `label "${label}" is not in A-label (xn--) form`;
      if (/[A-Z]/.test(label)) return `label "${label}" has upper-case letters`;
      if (label.startsWith('-') || label.endsWith('-'))
        return `label "${label}" starts or ends with a hyphen`;
      return `label "${label}" has characters other than letters, digits and hyphens`;
    }
  }
  // A numeric top-level label never names a host; such names are IP addresses in disguise.
  if (labels.length > 1 && /^\d+$/.test(labels[labels.length - 1]!)) return 'the last label is all digits';
  return undefined;
}

/**
 * Normalise a user-supplied domain: trim, lowercase, drop one trailing dot, convert U-labels
 * to A-labels (UTS #46 via the WHATWG URL parser, available in every JS runtime).
 */
export function normalizeDomain(input: string): DomainResult {
  let name = input.trim();
  if (name.length === 0) return { ok: false, reason: 'empty domain name' };
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (/[\s/\\?#@]/.test(name)) return { ok: false, reason: `"${input}" is not a domain name` };
  if (/[^\x00-\x7f]/.test(name)) {
    let ascii: string;
    try {
      ascii = new URL(`http://${name}/`).hostname;
    } catch {
      return { ok: false, reason: `"${input}" cannot be converted to an A-label (IDNA) name` };
    }
    name = ascii;
  }
  name = name.toLowerCase();
  const problem = hostnameProblem(name);
  if (problem) return { ok: false, reason: `"${input}": ${problem}` };
  return { ok: true, value: name };
}

/** Lowercase and drop a trailing dot: the comparison form for names read from DNS. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The policy host name for a domain (RFC 8461 §3.3). */
export function policyHost(domain: string): string {
  return `mta-sts.${canonicalName(domain)}`;
}
