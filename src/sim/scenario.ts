// The simulator's scenario: which domains exist, their DNS records, their policy hosts and
// MX hosts, and the faults each one should show. Validated with zod; errors name the key.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9_*]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/, {
    message: 'not a valid host name',
  })
  .transform((s) => s.toLowerCase().replace(/\.$/, ''));

/** One TXT record: a single string, or the list of its character-strings (a split record). */
const txtRecord = z.union([z.string().max(4000), z.array(z.string().max(255)).min(1).max(32)]);

const certKind = z.enum([
  'valid',
  'expired',
  'not-yet-valid',
  'wrong-name',
  'self-signed',
  'self-signed-expired',
]);

const tlsFaults = {
  /** Which certificate the host presents. */
  cert: certKind.default('valid'),
  /** The (otherwise valid) certificate expires in this many days. */
  certExpiresInDays: z.number().int().min(0).max(3650).optional(),
  /** Only TLS 1.0 is offered. */
  tls10Only: z.boolean().default(false),
};

const httpFaults = z
  .strictObject({
    ...tlsFaults,
    status: z.number().int().min(100).max(599).optional(),
    /** Send a Location header (with status 301 unless `status` says otherwise). */
    location: z.string().max(2000).optional(),
    contentType: z.string().max(200).optional(),
    /** Wait this long before sending the response headers. */
    responseDelayMs: z.number().int().min(0).max(600_000).optional(),
    /** Send a body of this many bytes instead of the policy. */
    oversizeBytes: z
      .number()
      .int()
      .min(1)
      .max(100 * 1024 * 1024)
      .optional(),
    /** Send the body one byte per second. */
    dribble: z.boolean().default(false),
  })
  .default({ cert: 'valid', tls10Only: false, dribble: false });

const smtpFaults = z
  .strictObject({
    ...tlsFaults,
    /** Accept the connection but never send a banner. */
    noBanner: z.boolean().default(false),
    /** Send this many `220-` continuation lines before the final banner line. */
    bannerContinuationLines: z.number().int().min(0).max(10_000_000).optional(),
    /** Send `220-` continuation lines until the client goes away. */
    endlessBanner: z.boolean().default(false),
    /** EHLO does not list STARTTLS (and STARTTLS gets 502). */
    noStarttls: z.boolean().default(false),
    /** STARTTLS is listed but answered with 454. */
    starttlsRefused: z.boolean().default(false),
    /** Nothing listens: connections are refused. */
    down: z.boolean().default(false),
  })
  .default({
    cert: 'valid',
    tls10Only: false,
    noBanner: false,
    endlessBanner: false,
    noStarttls: false,
    starttlsRefused: false,
    down: false,
  });

const mxHost = z.strictObject({
  host: hostName,
  priority: z.number().int().min(0).max(65535).default(10),
  /** How many (loopback) IPv4 addresses the host has. */
  addresses: z.number().int().min(0).max(16).default(1),
  faults: smtpFaults,
});

const stsRecord = z.strictObject({
  /** Shorthand: publish `v=STSv1; id=<id>;`. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9]{1,32}$/, { message: 'id must be 1 to 32 letters or digits' })
    .optional(),
  /** The record text (one TXT record); overrides `id`. */
  text: z.string().max(4000).optional(),
  /** Several TXT records, each a string or a list of strings (split). Overrides `text` and `id`. */
  records: z.array(txtRecord).max(32).optional(),
  /** Publish `_mta-sts.<domain>` as a CNAME to this name; the TXT records go there. */
  cnameTo: hostName.optional(),
  /** Publish the TXT record(s) at the domain itself (the mistake) instead of `_mta-sts`. */
  atApex: z.boolean().default(false),
});

const policy = z.strictObject({
  mode: z.enum(['enforce', 'testing', 'none']).default('enforce'),
  maxAge: z.number().int().min(0).default(604800),
  /** mx patterns; default: every MX host of the domain. */
  mx: z.array(z.string().max(253)).max(1000).optional(),
  /** The whole policy body as served; overrides the fields above. */
  text: z.string().max(1_000_000).optional(),
});

const policyHost = z
  .strictObject({
    /** No A record for mta-sts.<domain> (the host is unresolvable). */
    absent: z.boolean().default(false),
    faults: httpFaults,
  })
  .default({ absent: false, faults: { cert: 'valid', tls10Only: false, dribble: false } });

const tlsrpt = z.strictObject({
  /** Shorthand: publish `v=TLSRPTv1; rua=<rua>`. */
  rua: z.string().max(2000).optional(),
  /** The record text; overrides `rua`. */
  text: z.string().max(4000).optional(),
  records: z.array(txtRecord).max(32).optional(),
  /** Publish at the draft name `_smtp-tlsrpt.<domain>` instead of `_smtp._tls.<domain>`. */
  legacyName: z.boolean().default(false),
});

const dnsFault = z.strictObject({
  name: hostName,
  /** Only for this record type; default every type. */
  type: z.enum(['A', 'AAAA', 'MX', 'TXT', 'CNAME']).optional(),
  fault: z.enum(['servfail', 'timeout', 'nxdomain', 'refused']),
});

const extraRecord = z.strictObject({
  name: hostName,
  type: z.enum(['A', 'AAAA', 'MX', 'TXT', 'CNAME']),
  /** A/AAAA: address; CNAME: target; MX: "PRIORITY HOST"; TXT: string or list of strings. */
  value: txtRecord,
});

const domain = z.strictObject({
  name: hostName,
  mx: z.array(mxHost).max(32).default([]),
  /** The `_mta-sts` TXT record; omit for a domain without MTA-STS. */
  stsRecord: stsRecord.optional(),
  policy: policy.optional(),
  policyHost: policyHost,
  tlsrpt: tlsrpt.optional(),
  /** Addresses of the domain itself (for an implicit MX). */
  apexAddresses: z.number().int().min(0).max(16).default(0),
  /** SMTP faults of the domain itself when it is the implicit MX (no MX records, apexAddresses > 0). */
  apexSmtpFaults: smtpFaults,
});

export const scenarioSchema = z.strictObject({
  /** Added to every DNS answer and every TCP accept (latency benchmarks). */
  delayMs: z.number().int().min(0).max(60_000).default(0),
  domains: z.array(domain).min(1).max(1000),
  dnsFaults: z.array(dnsFault).max(1000).default([]),
  records: z.array(extraRecord).max(10_000).default([]),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioDomain = Scenario['domains'][number];
export type ScenarioMx = ScenarioDomain['mx'][number];
export type CertKind = z.output<typeof certKind>;

export class ScenarioError extends Error {
  readonly code = 'scenario-invalid';
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`${source}: invalid scenario:\n  ${issues.join('\n  ')}`);
    this.name = 'ScenarioError';
    this.issues = issues;
  }
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** Validate a scenario object; throws ScenarioError listing every bad key with its path. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    throw new ScenarioError(
      source,
      result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`),
    );
  }
  const scenario = result.data;
  const issues: string[] = [];
  const seen = new Set<string>();
  scenario.domains.forEach((d, i) => {
    if (seen.has(d.name)) issues.push(`domains[${i}].name: duplicate domain ${d.name}`);
    seen.add(d.name);
  });
  scenario.domains.forEach((d, i) => {
    d.mx.forEach((m, j) => {
      if (m.faults.endlessBanner && m.faults.noBanner) {
        issues.push(`domains[${i}].mx[${j}].faults: endlessBanner and noBanner exclude each other`);
      }
    });
  });
  if (issues.length > 0) throw new ScenarioError(source, issues);
  return scenario;
}

/** Parse YAML text into a validated scenario. */
export function parseScenarioYaml(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ScenarioError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseScenario(raw, source);
}

export async function loadScenarioFile(path: string): Promise<Scenario> {
  const text = await readFile(path, 'utf8');
  return parseScenarioYaml(text, path);
}
