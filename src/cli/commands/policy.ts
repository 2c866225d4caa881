import type { Command } from 'commander';
import { setPolicy } from '../../setup/workflow.js';
import { collect, colors, EXIT_OK, parseIntegerOption, printJson, UsageError } from '../output.js';
import { defaultSiteDir, failureExit, renderSetupResult } from '../render-setup.js';
import { parseMode } from './init.js';

interface PolicySetCliOptions {
  dir?: string;
  config?: string;
  domain?: string;
  mode?: string;
  addMx?: string[];
  removeMx?: string[];
  maxAge?: string;
  rua?: string[];
  noRua?: boolean;
  pagesHost?: string;
  force?: boolean;
  json?: boolean;
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('change a set-up policy (the id follows by itself)');
  policy
    .command('set')
    .description('change the policy, regenerate the site, and give it a new id when its content changed')
    .option('--dir <dir>', 'site directory made by init (default ./mta-sts.<domain> or .)')
    .option('--config <file>', 'change a domain of this YAML config instead')
    .option('--domain <domain>', 'which domain (needed when the state or config holds several)')
    .option('--mode <mode>', 'enforce, testing or none')
    .option('--add-mx <pattern>', 'add an mx pattern (repeatable)', collect)
    .option('--remove-mx <pattern>', 'remove an mx pattern (repeatable)', collect)
    .option('--max-age <seconds>', 'how long senders cache the policy')
    .option('--rua <uri>', 'replace the TLS-RPT report addresses (repeatable)', collect)
    .option('--no-rua', 'remove the TLS-RPT report addresses (no _smtp._tls record)')
    .option('--pages-host <host>', 'the GitHub Pages host mta-sts.<domain> points at')
    .option('--force', 'overwrite generated files that were edited by hand')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts policy set --mode enforce
  mta-sts policy set --add-mx mx3.example.com --remove-mx mx1.example.com
  mta-sts policy set --config mta-sts.yaml --domain example.org --max-age 1209600

The same change twice changes nothing the second time. After a change, publish the new
policy file first and the new TXT record once the file is served (RFC 8461 §8.1).
Exit status: 0 done (or nothing to change), 2 invalid value or error.`,
    )
    .action(async (opts: PolicySetCliOptions) => {
      process.exitCode = await runPolicySet(opts);
    });
}

async function runPolicySet(opts: PolicySetCliOptions): Promise<number> {
  // commander turns --no-rua into rua === false.
  const ruaOption = opts.rua as string[] | false | undefined;
  const change = {
    ...(opts.mode !== undefined ? { mode: parseMode(opts.mode)! } : {}),
    ...(opts.addMx ? { addMx: opts.addMx } : {}),
    ...(opts.removeMx ? { removeMx: opts.removeMx } : {}),
    ...(opts.maxAge !== undefined
      ? { maxAge: parseIntegerOption('--max-age', opts.maxAge, 0, Number.MAX_SAFE_INTEGER) }
      : {}),
    ...(ruaOption === false ? { rua: [] } : ruaOption ? { rua: ruaOption } : {}),
    ...(opts.pagesHost !== undefined ? { pagesHost: opts.pagesHost } : {}),
  };
  if (Object.keys(change).length === 0)
    throw new UsageError(
      'nothing to set: give --mode, --add-mx, --remove-mx, --max-age, --rua, --no-rua or --pages-host',
    );
  const where = opts.config
    ? {
        config: opts.config,
        ...(opts.domain ? { domain: opts.domain } : {}),
        ...(opts.dir ? { dir: opts.dir } : {}),
      }
    : { dir: opts.dir ?? defaultSiteDir(opts.domain), ...(opts.domain ? { domain: opts.domain } : {}) };
  const result = await setPolicy(where, change, { ...(opts.force ? { force: true } : {}) });
  const c = colors();
  if (opts.json) printJson(result);
  else if (result.ok) process.stdout.write(renderSetupResult(c, result, 'set', opts.config));
  else process.stderr.write(renderSetupResult(colors(process.stderr), result, 'set'));
  return result.ok ? EXIT_OK : failureExit(result);
}
