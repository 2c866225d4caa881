import type { Command } from 'commander';
import { SITE_TARGETS, type SiteTarget } from '../../setup/model.js';
import { MAX_TTL } from '../../setup/records.js';
import { initFromConfig, initSite } from '../../setup/workflow.js';
import { collect, colors, EXIT_OK, parseIntegerOption, printJson, UsageError } from '../output.js';
import { failureExit, renderSetupResult, resolverFrom } from '../render-setup.js';

interface InitCliOptions {
  dir?: string;
  mode?: string;
  mx?: string[];
  maxAge?: string;
  rua?: string[];
  target?: string;
  pagesHost?: string;
  resolver?: string[];
  config?: string;
  force?: boolean;
  ttl?: string;
  json?: boolean;
}

export function parseTarget(raw: string | undefined): SiteTarget | undefined {
  if (raw === undefined) return undefined;
  if (!(SITE_TARGETS as readonly string[]).includes(raw))
    throw new UsageError(`--target must be one of ${SITE_TARGETS.join(', ')}, got "${raw}"`);
  return raw as SiteTarget;
}

export function parseMode(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!['enforce', 'testing', 'none'].includes(raw))
    throw new UsageError(`--mode must be enforce, testing or none, got "${raw}"`);
  return raw;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a ready-to-publish MTA-STS policy site for a domain (or every domain of a --config)')
    .argument('[domain]', 'the mail domain, e.g. example.com')
    .option('--dir <dir>', "site directory (default ./mta-sts.<domain>; with --config the config's output)")
    .option('--mode <mode>', 'testing (default), enforce or none')
    .option('--mx <pattern>', "an mx pattern (repeatable); default: the domain's MX records", collect)
    .option('--max-age <seconds>', 'how long senders cache the policy (default 604800, one week)')
    .option('--rua <uri>', 'TLS-RPT report address, mailto: or https: (repeatable)', collect)
    .option('--target <target>', `github-pages (default), static, nginx, caddy or cloudflare-worker`)
    .option('--pages-host <host>', 'the GitHub Pages host mta-sts.<domain> points at, e.g. octocat.github.io')
    .option(
      '--resolver <ip[:port]>',
      'DNS resolver for the MX lookup (repeatable); default the system one',
      collect,
    )
    .option('--config <file>', 'set up every domain of a YAML config (see docs/setup.md)')
    .option('--ttl <seconds>', 'TTL of the printed DNS records', '3600')
    .option('--force', 'overwrite files that mta-sts did not write or that were edited by hand')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts init example.com --pages-host octocat.github.io --rua mailto:tlsrpt@reports.example.net
  mta-sts init example.com --mx mx1.example.com --mx mx2.example.com --mode enforce
  mta-sts init example.com --target nginx --dir /srv/mta-sts
  mta-sts init --config mta-sts.yaml

Running init again on the same directory regenerates the files and keeps the id unless the
policy changed. Exit status: 0 written, 1 no MX records and no --mx, 2 invalid option or error.`,
    )
    .action(async (domain: string | undefined, opts: InitCliOptions) => {
      process.exitCode = await runInit(domain, opts);
    });
}

async function runInit(domain: string | undefined, opts: InitCliOptions): Promise<number> {
  const ttl = parseIntegerOption('--ttl', opts.ttl ?? '3600', 0, MAX_TTL);
  const c = colors();
  if (opts.config) {
    if (domain) throw new UsageError('give either a DOMAIN or --config, not both');
    const given = ['mode', 'mx', 'maxAge', 'rua', 'target', 'pagesHost'].filter(
      (k) => opts[k as keyof InitCliOptions] !== undefined,
    );
    if (given.length > 0)
      throw new UsageError(
        `with --config the policies come from the file; drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`).join(', ')}`,
      );
    const result = await initFromConfig({
      config: opts.config,
      ...(opts.dir ? { dir: opts.dir } : {}),
      ...(opts.force ? { force: true } : {}),
      ttl,
    });
    if (opts.json) printJson(result);
    else process.stdout.write(renderSetupResult(c, result, 'init', opts.config));
    return EXIT_OK;
  }
  if (!domain) throw new UsageError('give the DOMAIN to set up (or --config FILE)');
  const result = await initSite(
    {
      domain,
      dir: opts.dir ?? `mta-sts.${domain.toLowerCase().replace(/\.$/, '')}`,
      ...(opts.mode !== undefined ? { mode: parseMode(opts.mode)! } : {}),
      ...(opts.mx
        ? {
            mx: opts.mx
              .flatMap((m) => m.split(','))
              .map((m) => m.trim())
              .filter(Boolean),
          }
        : {}),
      ...(opts.maxAge !== undefined
        ? { maxAge: parseIntegerOption('--max-age', opts.maxAge, 0, Number.MAX_SAFE_INTEGER) }
        : {}),
      ...(opts.rua ? { rua: opts.rua } : {}),
      ...(opts.target !== undefined ? { target: parseTarget(opts.target)! } : {}),
      ...(opts.pagesHost !== undefined ? { pagesHost: opts.pagesHost } : {}),
      ...(opts.force ? { force: true } : {}),
      ttl,
    },
    { resolver: resolverFrom(opts.resolver) },
  );
  if (opts.json) printJson(result);
  else if (result.ok) process.stdout.write(renderSetupResult(c, result, 'init'));
  else process.stderr.write(renderSetupResult(colors(process.stderr), result, 'init'));
  return result.ok ? EXIT_OK : failureExit(result);
}
