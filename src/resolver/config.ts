// The resolver's configuration: postfix-mta-sts-resolver's YAML keys (so an existing
// /etc/mta-sts-daemon.yml works unchanged) plus ours. Unknown keys are reported, never
// silently ignored; a wrong value is an error naming its key.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

export interface ZoneConfig {
  strictTesting: boolean;
  /** Seconds, for DNS and HTTPS together. */
  timeout: number;
  requireSni: boolean;
  tlsrpt: boolean;
}

export type CacheConfig =
  | { type: 'internal'; cacheSize: number }
  | { type: 'sqlite'; filename: string; timeout: number }
  | { type: 'redis'; url?: string; options: Record<string, unknown> };

export interface ResolverConfig {
  host: string;
  port: number;
  path?: string;
  mode?: number;
  owner?: string | number;
  group?: string | number;
  reusePort: boolean;
  /** Seconds. */
  shutdownTimeout: number;
  /** Seconds a DNS check stays good (postfix-mta-sts-resolver's cache_grace). */
  cacheGrace: number;
  cache: CacheConfig;
  defaultZone: ZoneConfig;
  zones: Record<string, ZoneConfig>;
  proactive: { enabled: boolean; interval: number; concurrencyLimit: number; graceRatio: number };
  resolver?: string[];
  caFile?: string;
  connectTo: string[];
  /** Seconds "no MTA-STS" is remembered. */
  negativeCacheTtl: number;
  /** Seconds between attempts after a failed policy fetch (RFC 8461 §3.3). */
  fetchRetry: number;
  /** Seconds a connection may sit idle. */
  idleTimeout: number;
  metrics?: { host: string; port: number };
}

export interface LoadedConfig {
  config: ResolverConfig;
  /** Unknown or ignored keys, one line each, to be logged at start-up. */
  warnings: string[];
}

export class ResolverConfigError extends Error {
  readonly code = 'resolver-config';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'ResolverConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = '/etc/mta-sts-daemon.yml';
export const DEFAULT_SQLITE_FILE = '/var/lib/mta-sts-kit/resolver-cache.sqlite';

type Obj = Record<string, unknown>;

class Reader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  object(value: unknown, path: string): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problems.push(`${path}: expected a mapping`);
      return {};
    }
    return value as Obj;
  }

  known(obj: Obj, path: string, keys: readonly string[], ignored: readonly string[] = []): void {
    for (const k of Object.keys(obj)) {
      const where = path ? `${path}.${k}` : k;
      if (ignored.includes(k)) this.warnings.push(`${where}: accepted for compatibility, has no effect here`);
      else if (!keys.includes(k)) this.warnings.push(`${where}: unknown key, ignored`);
    }
  }

  bool(obj: Obj, key: string, path: string, def: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.problems.push(`${path}${key}: expected true or false`);
      return def;
    }
    return v;
  }

  num(obj: Obj, key: string, path: string, def: number, min: number, max: number, int = false): number {
    const v = obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      this.problems.push(
        `${path}${key}: expected ${int ? 'a whole number' : 'a number'} from ${min} to ${max}`,
      );
      return def;
    }
    return v;
  }

  str(obj: Obj, key: string, path: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push(`${path}${key}: expected a non-empty string`);
      return undefined;
    }
    return v;
  }

  strList(obj: Obj, key: string, path: string): string[] | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
      this.problems.push(`${path}${key}: expected a list of strings`);
      return undefined;
    }
    return list as string[];
  }
}

const ZONE_KEYS = ['strict_testing', 'timeout', 'require_sni', 'tlsrpt'] as const;

function readZone(r: Reader, raw: unknown, path: string, base: ZoneConfig): ZoneConfig {
  const z = r.object(raw, path);
  r.known(z, path, ZONE_KEYS);
  const p = `${path}.`;
  return {
    strictTesting: r.bool(z, 'strict_testing', p, base.strictTesting),
    timeout: r.num(z, 'timeout', p, base.timeout, 0.1, 600),
    requireSni: r.bool(z, 'require_sni', p, base.requireSni),
    tlsrpt: r.bool(z, 'tlsrpt', p, base.tlsrpt),
  };
}

function readMode(r: Reader, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  // YAML 1.1 (as postfix-mta-sts-resolver reads it) makes 0666 an octal number already.
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
  if (typeof v === 'string' && /^0?o?[0-7]{3,4}$/.test(v)) return Number.parseInt(v.replace(/^0?o?/, ''), 8);
  r.problems.push('mode: expected an octal file mode such as 0666');
  return undefined;
}

function readOwner(r: Reader, obj: Obj, key: string): string | number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if ((typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && v.length > 0))
    return v;
  r.problems.push(`${key}: expected a user/group name or number`);
  return undefined;
}

function readCache(r: Reader, raw: unknown): CacheConfig {
  const c = r.object(raw, 'cache');
  r.known(c, 'cache', ['type', 'options']);
  const type = (c.type ?? (raw === undefined ? 'sqlite' : 'internal')) as string;
  const o = r.object(c.options, 'cache.options');
  switch (type) {
    case 'internal':
      r.known(o, 'cache.options', ['cache_size']);
      return { type, cacheSize: r.num(o, 'cache_size', 'cache.options.', 10_000, 1, 100_000_000, true) };
    case 'sqlite':
      r.known(o, 'cache.options', ['filename', 'timeout'], ['threads']);
      return {
        type,
        filename: r.str(o, 'filename', 'cache.options.') ?? DEFAULT_SQLITE_FILE,
        timeout: r.num(o, 'timeout', 'cache.options.', 5, 0, 3600),
      };
    case 'redis': {
      const { url, ...rest } = o;
      if (url !== undefined && typeof url !== 'string')
        r.problems.push('cache.options.url: expected a string');
      return { type, ...(typeof url === 'string' ? { url } : {}), options: rest };
    }
    case 'redis_sentinel':
    case 'postgres':
      r.problems.push(
        `cache.type: "${type}" is not supported by this resolver; use internal, sqlite or redis`,
      );
      return { type: 'internal', cacheSize: 10_000 };
    default:
      r.problems.push(`cache.type: expected internal, sqlite or redis, got ${JSON.stringify(type)}`);
      return { type: 'internal', cacheSize: 10_000 };
  }
}

const TOP_KEYS = [
  'host',
  'port',
  'path',
  'mode',
  'owner',
  'group',
  'reuse_port',
  'shutdown_timeout',
  'cache_grace',
  'cache',
  'default_zone',
  'zones',
  'proactive_policy_fetching',
  'resolver',
  'ca_file',
  'connect_to',
  'negative_cache_ttl',
  'fetch_retry',
  'idle_timeout',
  'metrics',
] as const;

/** Validate a parsed YAML document; throws ResolverConfigError listing every problem. */
export function readResolverConfig(raw: unknown, source = 'config'): LoadedConfig {
  const r = new Reader();
  const top = r.object(raw, '(top level)');
  r.known(top, '', TOP_KEYS);
  const defaultZone = readZone(r, top.default_zone, 'default_zone', {
    strictTesting: false,
    timeout: 4,
    requireSni: true,
    tlsrpt: false,
  });
  const zones: Record<string, ZoneConfig> = {};
  for (const [name, z] of Object.entries(r.object(top.zones, 'zones')))
    zones[name] = readZone(r, z, `zones.${name}`, defaultZone);
  const pp = r.object(top.proactive_policy_fetching, 'proactive_policy_fetching');
  r.known(pp, 'proactive_policy_fetching', ['enabled', 'interval', 'concurrency_limit', 'grace_ratio']);
  const ppPath = 'proactive_policy_fetching.';
  const m = top.metrics === undefined || top.metrics === null ? undefined : r.object(top.metrics, 'metrics');
  if (m) r.known(m, 'metrics', ['host', 'port']);
  const config: ResolverConfig = {
    host: r.str(top, 'host', '') ?? '127.0.0.1',
    port: r.num(top, 'port', '', 8461, 0, 65535, true),
    reusePort: r.bool(top, 'reuse_port', '', true),
    shutdownTimeout: r.num(top, 'shutdown_timeout', '', 20, 0, 3600),
    cacheGrace: r.num(top, 'cache_grace', '', 60, 0, 86_400),
    cache: readCache(r, top.cache),
    defaultZone,
    zones,
    proactive: {
      enabled: r.bool(pp, 'enabled', ppPath, false),
      interval: r.num(pp, 'interval', ppPath, 86_400, 1, 31_557_600),
      concurrencyLimit: r.num(pp, 'concurrency_limit', ppPath, 100, 1, 10_000, true),
      graceRatio: r.num(pp, 'grace_ratio', ppPath, 2, 1, 1_000_000),
    },
    connectTo: r.strList(top, 'connect_to', '') ?? [],
    negativeCacheTtl: r.num(top, 'negative_cache_ttl', '', 300, 0, 86_400),
    fetchRetry: r.num(top, 'fetch_retry', '', 300, 0, 86_400),
    idleTimeout: r.num(top, 'idle_timeout', '', 300, 0, 86_400),
  };
  const path = r.str(top, 'path', '');
  if (path !== undefined) config.path = path;
  const mode = readMode(r, top.mode);
  if (mode !== undefined) config.mode = mode;
  const owner = readOwner(r, top, 'owner');
  if (owner !== undefined) config.owner = owner;
  const group = readOwner(r, top, 'group');
  if (group !== undefined) config.group = group;
  const resolver = r.strList(top, 'resolver', '');
  if (resolver) config.resolver = resolver;
  const caFile = r.str(top, 'ca_file', '');
  if (caFile !== undefined) config.caFile = caFile;
  if (m) {
    config.metrics = {
      host: r.str(m, 'host', 'metrics.') ?? '127.0.0.1',
      port: r.num(m, 'port', 'metrics.', 9461, 0, 65535, true),
    };
  }
  if (
    config.path === undefined &&
    (top.mode !== undefined || top.owner !== undefined || top.group !== undefined)
  )
    r.warnings.push('mode/owner/group: only used with path (a unix socket)');
  if (r.problems.length > 0) throw new ResolverConfigError(source, r.problems);
  return { config, warnings: r.warnings };
}

export function parseResolverConfigYaml(text: string, source = 'config'): LoadedConfig {
  let raw: unknown;
  try {
    // YAML 1.1, as postfix-mta-sts-resolver (PyYAML) reads it: `mode: 0666` is octal.
    raw = parseYaml(text, { version: '1.1', maxAliasCount: 100 });
  } catch (err) {
    throw new ResolverConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  return readResolverConfig(raw ?? {}, source);
}

export async function loadResolverConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ResolverConfigError(path, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
  return parseResolverConfigYaml(text, path);
}

/** The zone a socketmap request's map name selects (postfix-mta-sts-resolver's `zones`). */
export function zoneFor(config: ResolverConfig, name: string): ZoneConfig {
  return Object.hasOwn(config.zones, name) ? config.zones[name]! : config.defaultZone;
}
