// MX host patterns (RFC 8461 §3.2 "mx" values, §4.1 matching).
import { canonicalName, hostnameProblem } from './domain.js';

/** Why a policy mx value is invalid, or undefined when it is a valid pattern. */
export function mxPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'empty mx value';
  if (/[^\x00-\x7f]/.test(pattern))
    return 'contains non-ASCII characters: write the name in A-label (xn--) form';
  if (/\s/.test(pattern)) return 'contains whitespace';
  if (pattern === '*') return 'a bare "*" is not allowed: use "*.<parent domain>"';
  let rest = pattern;
  if (pattern.startsWith('*.')) rest = pattern.slice(2);
  if (rest.includes('*')) return '"*" is only allowed as the whole left-most label, as in "*.example.com"';
  // Case is not significant (§4.1), so check the lowercase form against the host grammar.
  return hostnameProblem(rest.toLowerCase());
}

/**
 * RFC 8461 §4.1: case-insensitive; a trailing dot on the MX host is ignored; an exact pattern
 * matches that name only; "*.example.com" matches exactly one extra left-most label.
 */
export function matchMxPattern(pattern: string, host: string): boolean {
  const p = canonicalName(pattern);
  const h = canonicalName(host);
  if (p.length === 0 || h.length === 0) return false;
  if (!p.startsWith('*.')) return p === h;
  const parent = p.slice(1); // ".example.com"
  if (!h.endsWith(parent)) return false;
  const label = h.slice(0, h.length - parent.length);
  return label.length > 0 && !label.includes('.');
}

/** The first pattern that matches host, or undefined. */
export function findMatchingPattern(patterns: readonly string[], host: string): string | undefined {
  return patterns.find((p) => matchMxPattern(p, host));
}

export interface MxCoverage {
  covered: Array<{ host: string; pattern: string }>;
  notCovered: string[];
  unusedPatterns: string[];
}

/** Which MX hosts the patterns cover, which they miss, and which patterns match nothing. */
export function mxCoverage(patterns: readonly string[], hosts: readonly string[]): MxCoverage {
  const covered: MxCoverage['covered'] = [];
  const notCovered: string[] = [];
  const used = new Set<string>();
  for (const host of hosts) {
    const matching = patterns.filter((p) => matchMxPattern(p, host));
    if (matching.length === 0) notCovered.push(host);
    else {
      covered.push({ host, pattern: matching[0]! });
      for (const p of matching) used.add(p);
    }
  }
  return { covered, notCovered, unusedPatterns: patterns.filter((p) => !used.has(p)) };
}
