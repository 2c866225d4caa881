// The network flags `check` and `scan` share (the same meaning as the resolver's config keys),
// declared once and turned into CheckOptions once.
import type { Command } from 'commander';
import type { CheckOptions } from '../check/run.js';
import { collect, UsageError } from './output.js';

export interface NetworkCliOptions {
  resolver?: string[];
  caFile?: string;
  systemCa?: boolean;
  connectTo?: string[];
  timeout: string;
  smtp?: boolean;
  smtpPort: string;
}

export function addNetworkOptions(cmd: Command): Command {
  return cmd
    .option(
      '--resolver <ip[:port]>',
      'DNS resolver to ask (repeatable); default the system resolver',
      collect,
    )
    .option('--ca-file <pem>', 'extra trust anchors (PEM), added to the system roots')
    .option('--no-system-ca', 'trust only --ca-file')
    .option(
      '--connect-to <host:port:addr:port>',
      'connect to ADDR:PORT instead of HOST:PORT, keeping the name for SNI and certificate checks (repeatable, as curl)',
      collect,
    )
    .option('--timeout <seconds>', 'time limit of each network operation', '10')
    .option('--no-smtp', 'skip the STARTTLS probes of the MX hosts')
    .option('--smtp-port <port>', 'SMTP port to probe', '25');
}

export function networkCheckOptions(opts: NetworkCliOptions): CheckOptions {
  const timeout = Number(opts.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600)
    throw new UsageError(`--timeout must be a number of seconds between 0 and 600, got "${opts.timeout}"`);
  const smtpPort = Number(opts.smtpPort);
  if (!Number.isInteger(smtpPort) || smtpPort < 1 || smtpPort > 65535)
    throw new UsageError(`--smtp-port must be a port number, got "${opts.smtpPort}"`);
  return {
    ...(opts.resolver ? { resolvers: opts.resolver } : {}),
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    ...(opts.connectTo ? { connectTo: opts.connectTo } : {}),
    noSystemCa: opts.systemCa === false,
    timeoutSeconds: timeout,
    smtp: opts.smtp !== false,
    smtpPort,
  };
}
