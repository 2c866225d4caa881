// Running the daemon in the foreground until SIGTERM/SIGINT: shared by `mta-sts resolver`
// and the lean entry point src/resolver/bin.ts (which skips loading the other commands).
import { existsSync } from 'node:fs';
import pino from 'pino';
import { DEFAULT_CONFIG_PATH, type LoadedConfig, loadResolverConfig, readResolverConfig } from './config.js';
import { notifySystemd, startResolverDaemon } from './daemon.js';

export async function loadConfigOrDefaults(file: string | undefined): Promise<LoadedConfig> {
  if (file) return loadResolverConfig(file);
  if (existsSync(DEFAULT_CONFIG_PATH)) return loadResolverConfig(DEFAULT_CONFIG_PATH);
  return readResolverConfig({}, '(defaults)');
}

/** Start from a loaded configuration, log JSON lines to stderr, stop cleanly on a signal. */
export async function runResolverForeground(loaded: LoadedConfig, source: string): Promise<void> {
  const logger = pino({ base: { service: 'mta-sts-resolver' } }, pino.destination(2));
  for (const w of loaded.warnings) logger.warn({ config: source }, w);
  const daemon = await startResolverDaemon(loaded.config, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal, open: daemon.server.connections() }, 'shutting down');
      notifySystemd('STOPPING=1', logger);
      daemon.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('stopped');
  logger.flush();
}
