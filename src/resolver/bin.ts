#!/usr/bin/env node
// A lean entry point for the daemon alone: `node dist/resolver/bin.js [--config FILE]` is
// `mta-sts resolver [--config FILE]` without loading every other command (faster start).
import { ResolverConfigError } from './config.js';
import { loadConfigOrDefaults, runResolverForeground } from './run.js';

const args = process.argv.slice(2);
const i = args.findIndex((a) => a === '--config' || a === '-c');
const file = i >= 0 ? args[i + 1] : undefined;
if ((i >= 0 && !file) || args.length > (i >= 0 ? 2 : 0)) {
  process.stderr.write('usage: bin.js [--config FILE]\n');
  process.exit(2);
}
try {
  const loaded = await loadConfigOrDefaults(file);
  await runResolverForeground(loaded, file ?? '(default)');
  process.exit(0);
} catch (err) {
  process.stderr.write(
    `mta-sts resolver: ${err instanceof ResolverConfigError ? err.message : (err as Error).stack}\n`,
  );
  process.exit(2);
}
