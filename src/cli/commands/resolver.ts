// `mta-sts resolver`: the Postfix socketmap policy daemon (foreground, JSON logs), and
// `mta-sts resolver query DOMAIN`: one lookup showing the reply Postfix would get.
import type { Command } from 'commander';
import { systemClock } from '../../ports.js';
import {
  DEFAULT_CONFIG_PATH,
  type LoadedConfig,
  ResolverConfigError,
  zoneFor,
} from '../../resolver/config.js';
import { networkFactory } from '../../resolver/daemon.js';
import { queryPolicy } from '../../resolver/query.js';
import { loadConfigOrDefaults, runResolverForeground } from '../../resolver/run.js';
import { collect, colors, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, printJson, UsageError } from '../output.js';

async function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  try {
    return await loadConfigOrDefaults(file);
  } catch (err) {
    if (err instanceof ResolverConfigError) throw new UsageError(err.message, err.code);
    throw err;
  }
}

interface QueryOptions {
  config?: string;
  zone: string;
  resolver?: string[];
  caFile?: string;
  connectTo?: string[];
  json?: boolean;
}

export function registerResolver(program: Command): void {
  const cmd = program
    .command('resolver')
    .description('Postfix MTA-STS policy daemon (socketmap), a drop-in for postfix-mta-sts-resolver')
    .option('-c, --config <file>', `configuration file (default ${DEFAULT_CONFIG_PATH} if present)`)
    .action(async (opts: { config?: string }) => {
      const loaded = await loadConfig(opts.config);
      await runResolverForeground(loaded, opts.config ?? DEFAULT_CONFIG_PATH);
    });

  cmd
    .command('query')
    .description('look up one domain and print its policy and the exact reply Postfix would get')
    .argument('<domain>', 'the recipient domain (or a socketmap key such as [mx.example]:25)')
    .option('-c, --config <file>', 'read resolver, ca_file, connect_to and zones from this file')
    .option('--zone <name>', 'socketmap map name selecting a zone', 'postfix')
    .option('--resolver <ip[:port]>', 'DNS server to ask (repeatable)', collect)
    .option('--ca-file <file>', 'extra trusted CA certificates (PEM)')
    .option('--connect-to <host:port:addr:port>', 'connect here instead (repeatable)', collect)
    .option('--json', 'print one JSON object')
    .action(async (key: string, opts: QueryOptions) => {
      const parentConfig = cmd.opts<{ config?: string }>().config;
      const { config } = await loadConfig(opts.config ?? parentConfig);
      if (opts.resolver) config.resolver = opts.resolver;
      if (opts.caFile) config.caFile = opts.caFile;
      if (opts.connectTo) config.connectTo = [...config.connectTo, ...opts.connectTo];
      const zone = zoneFor(config, opts.zone);
      let network: ReturnType<typeof networkFactory>;
      try {
        network = networkFactory(config);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const result = await queryPolicy(key, network(zone.timeout), zone, systemClock);
      if (!result) {
        if (opts.json) printJson({ key, domain: null, reply: 'NOTFOUND ' });
        else process.stdout.write(`${key}: not a domain MTA-STS applies to\nreply:  NOTFOUND \n`);
        process.exitCode = EXIT_OK;
        return;
      }
      if (opts.json) printJson(result);
      else {
        const c = colors();
        const lines: string[] = [`domain: ${result.domain}`];
        const r = result.record;
        if (r.status === 'found') lines.push(`record: v=STSv1; id=${r.id}`);
        else if (r.status === 'absent') lines.push(`record: ${c.dim(`none (${r.detail})`)}`);
        else lines.push(`record: ${c.red(`lookup failed (${r.detail})`)}`);
        if (result.policy) {
          const p = result.policy;
          lines.push(`policy: mode ${p.mode}, max_age ${p.maxAge}`);
          for (const mx of p.mx) lines.push(`        mx ${mx}`);
        }
        if (result.fetchFailure)
          lines.push(
            `policy: ${c.red(`unusable, ${result.fetchFailure.reason}`)}: ${result.fetchFailure.detail}`,
          );
        lines.push(`reply:  ${result.reply}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode =
        result.record.status === 'error' ? EXIT_USAGE : result.fetchFailure ? EXIT_PROBLEMS : EXIT_OK;
    });
}
