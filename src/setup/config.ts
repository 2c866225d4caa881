// The multi-domain config file (mta-sts.yaml): several domains with their policies, for a
// hosting provider or anyone with more than one domain. Read by init/records/policy set here and
// by `mta-sts serve`. Validated with zod; every error names the key that is wrong.
//
//   target: github-pages        # github-pages | static | nginx | caddy | cloudflare-worker
//   output: sites               # where `init --config` writes, relative to this file
//   defaults:                   # apply to every domain unless it says otherwise
//     mode: testing
//     max_age: 604800
//     rua: [mailto:tlsrpt@reports.example.net]
//     pages_host: octocat.github.io
//   domains:
//     example.com:
//       mx: [mx1.example.com, mx2.example.com]
//       mode: enforce
//     example.org:
//       mx: ["*.mail.example.org"]
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Finding } from '../core/findings.js';
import {
  applyPolicyChange,
  type DomainSetup,
  type DomainState,
  type PolicyChange,
  policyText,
  SetupError,
  SITE_TARGETS,
  type SiteTarget,
  validateSetup,
} from './model.js';

export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_CONFIG_DOMAINS = 10_000;

const uriList = z.union([z.string().max(2000), z.array(z.string().max(2000)).max(10)]);

const domainFields = {
  mode: z.enum(['enforce', 'testing', 'none']).optional(),
  mx: z.array(z.string().max(253)).max(100).optional(),
  max_age: z.number().int().min(0).optional(),
  rua: uriList.optional(),
  pages_host: z.string().max(253).optional(),
};

const configSchema = z.strictObject({
  target: z.enum(SITE_TARGETS).default('github-pages'),
  output: z.string().min(1).max(4096).default('sites'),
  defaults: z.strictObject(domainFields).default({}),
  domains: z
    .record(z.string().max(253), z.strictObject(domainFields).nullable())
    .refine((d) => Object.keys(d).length > 0, { message: 'list at least one domain' })
    .refine((d) => Object.keys(d).length <= MAX_CONFIG_DOMAINS, {
      message: `at most ${MAX_CONFIG_DOMAINS} domains`,
    }),
});

/** One domain as the config declares it, with its policy text ready to serve. */
export interface ConfigDomain extends DomainSetup {
  /** The policy file body (canonical, LF). */
  policyText: string;
}

export interface MtaStsConfig {
  /** The file it came from ('<text>' for parseConfig without a source). */
  source: string;
  target: SiteTarget;
  /** Absolute output directory for `init --config`. */
  output: string;
  /** Where the ids live: beside the config, <name>.state.json. */
  stateFile: string;
  domains: ConfigDomain[];
  /** Non-error findings from validation (e.g. rua on the domain itself comes later, from advice). */
  findings: Finding[];
}

export class ConfigError extends Error {
  readonly code = 'config-invalid';
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`${source}: invalid config:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

/** The state file that holds a config's ids: mta-sts.yaml -> mta-sts.state.json beside it. */
export function configStateFile(configPath: string): string {
  const abs = resolve(configPath);
  return join(dirname(abs), `${basename(abs, extname(abs))}.state.json`);
}

export interface ParseConfigOptions {
  source?: string;
  /** Directory that relative paths (output) are resolved against; default the current one. */
  baseDir?: string;
}

/** Parse and validate config text. Throws ConfigError listing every problem with its key path. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): MtaStsConfig {
  const source = options.source ?? '<config>';
  if (text.length > MAX_CONFIG_BYTES)
    throw new ConfigError(source, [`larger than ${MAX_CONFIG_BYTES} bytes`]);
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      source,
      doc.errors.map((e) => `not valid YAML: ${e.message}`),
    );
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((i) => `${formatPath(i.path) || '(top level)'}: ${i.message}`),
    );
  }
  const cfg = parsed.data;
  const issues: string[] = [];
  const findings: Finding[] = [];
  const domains: ConfigDomain[] = [];
  const seen = new Set<string>();
  for (const [name, entry] of Object.entries(cfg.domains)) {
    const d = { ...cfg.defaults, ...(entry ?? {}) };
    const rua = asList(d.rua);
    const result = validateSetup({
      domain: name,
      ...(d.mode ? { mode: d.mode } : {}),
      mx: d.mx ?? [],
      ...(d.max_age !== undefined ? { maxAge: d.max_age } : {}),
      ...(rua ? { rua } : {}),
      ...(d.pages_host !== undefined ? { pagesHost: d.pages_host } : {}),
    });
    if (!result.ok) {
      for (const f of result.findings.filter((x) => x.severity === 'error')) {
        const key =
          f.code === 'setup.domain-invalid'
            ? ''
            : f.code.startsWith('tlsrpt')
              ? '.rua'
              : f.code === 'setup.pages-host-invalid'
                ? '.pages_host'
                : f.code === 'policy.max-age'
                  ? '.max_age'
                  : f.code === 'policy.mode'
                    ? '.mode'
                    : '.mx';
        issues.push(`domains.${name}${key}: ${f.message} [${f.code}]`);
      }
      continue;
    }
    if (seen.has(result.value.domain)) {
      issues.push(`domains.${name}: the same domain as another entry (${result.value.domain})`);
      continue;
    }
    seen.add(result.value.domain);
    findings.push(...result.findings);
    domains.push({ ...result.value, policyText: policyText(result.value) });
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  const baseDir = options.baseDir ?? process.cwd();
  return {
    source,
    target: cfg.target,
    output: resolve(baseDir, cfg.output),
    stateFile: options.source ? configStateFile(options.source) : join(baseDir, 'mta-sts.state.json'),
    domains,
    findings,
  };
}

/** Read and validate a config file; relative paths in it are relative to the file. */
export async function loadConfig(path: string): Promise<MtaStsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SetupError(
      `cannot read config ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
      'config-unreadable',
    );
  }
  return parseConfig(text, { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Apply a `policy set` change to one domain of the config text, keeping the rest of the file
 * (comments, order) as it was. The values are written to the domain's own entry.
 */
export function editConfigDomain(
  text: string,
  config: MtaStsConfig,
  domain: string,
  change: PolicyChange,
): string {
  const current = config.domains.find((d) => d.domain === domain);
  if (!current) {
    throw new SetupError(
      `${config.source} has no domain ${domain} (it has ${config.domains.map((d) => d.domain).join(', ')})`,
      'domain-not-in-config',
    );
  }
  const next = applyPolicyChange(current, change);
  const doc = parseDocument(text);
  const domains = doc.get('domains');
  if (!isMap(domains)) throw new SetupError(`${config.source}: "domains" is not a mapping`, 'config-invalid');
  // The key as written (it may differ from the normalised name: case, trailing dot).
  const key =
    domains.items
      .map((p) => String((p.key as { value?: unknown })?.value ?? p.key))
      .find((k) => {
        return k.toLowerCase().replace(/\.$/, '') === domain;
      }) ?? domain;
  if (doc.getIn(['domains', key]) == null) doc.setIn(['domains', key], doc.createNode({}));
  if (change.mode !== undefined) doc.setIn(['domains', key, 'mode'], next.mode);
  if (change.addMx || change.removeMx)
    doc.setIn(['domains', key, 'mx'], doc.createNode([...(next.mx ?? [])], { flow: true }));
  if (change.maxAge !== undefined) doc.setIn(['domains', key, 'max_age'], next.maxAge);
  if (change.rua !== undefined)
    doc.setIn(['domains', key, 'rua'], doc.createNode([...(next.rua ?? [])], { flow: true }));
  if (change.pagesHost !== undefined) doc.setIn(['domains', key, 'pages_host'], next.pagesHost);
  return doc.toString();
}

/** The recorded state of a config domain, when there is one. */
export function findDomainState(states: readonly DomainState[], domain: string): DomainState | undefined {
  return states.find((s) => s.domain === domain);
}
