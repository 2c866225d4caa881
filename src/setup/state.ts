// The state file: the recorded set-up of one site directory (or of one config file's domains).
// It is the source of truth: every generated file is regenerated from it, and the current id
// lives only here. Validated with zod on read; errors name the bad key.
import { z } from 'zod';
import type { DomainState, SiteTarget } from './model.js';
import { SITE_TARGETS } from './model.js';

export const STATE_FORMAT = 'mta-sts-kit/site-state@1';
/** Where a site directory keeps its state. */
export const STATE_FILE = '.mta-sts/state.json';
export const MAX_STATE_BYTES = 4 * 1024 * 1024;

export interface SiteState {
  format: typeof STATE_FORMAT;
  target: SiteTarget;
  domains: DomainState[];
  /** Generated files (relative path -> sha256 hex) to notice hand edits before overwriting. */
  files: Record<string, string>;
}

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO 8601 date' });

const domainState = z.strictObject({
  domain: z.string().min(1).max(253),
  mode: z.enum(['enforce', 'testing', 'none']),
  mx: z.array(z.string().max(253)).max(1000),
  maxAge: z.number().int().min(0),
  rua: z.array(z.string().max(2000)).max(100),
  pagesHost: z.string().max(253).optional(),
  id: z.string().regex(/^[A-Za-z0-9]{1,32}$/, { message: 'id must be 1 to 32 letters or digits' }),
  idSetAt: isoDate,
  modeSince: isoDate,
});

const stateSchema = z.strictObject({
  format: z.literal(STATE_FORMAT),
  target: z.enum(SITE_TARGETS),
  domains: z.array(domainState).max(10_000),
  files: z.record(z.string().max(1000), z.string().regex(/^[0-9a-f]{64}$/)).default({}),
});

export class StateError extends Error {
  readonly code = 'state-invalid';
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

export function parseSiteState(text: string, source = STATE_FILE): SiteState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const result = stateSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${formatPath(i.path) || '(top level)'}: ${i.message}`);
    throw new StateError(`${source}: invalid state file:\n  ${issues.join('\n  ')}`);
  }
  const state = result.data;
  const seen = new Set<string>();
  for (const d of state.domains) {
    if (seen.has(d.domain)) throw new StateError(`${source}: domain ${d.domain} appears twice`);
    seen.add(d.domain);
  }
  return state as SiteState;
}

/** Stable JSON: keys in a fixed order, so the file diffs well under version control. */
export function serializeSiteState(state: SiteState): string {
  const domains = state.domains.map((d) => ({
    domain: d.domain,
    mode: d.mode,
    mx: d.mx,
    maxAge: d.maxAge,
    rua: d.rua,
    ...(d.pagesHost ? { pagesHost: d.pagesHost } : {}),
    id: d.id,
    idSetAt: d.idSetAt,
    modeSince: d.modeSince,
  }));
  const files = Object.fromEntries(Object.entries(state.files).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify({ format: state.format, target: state.target, domains, files }, null, 2)}\n`;
}
