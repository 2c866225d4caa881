#!/usr/bin/env node
// `npm run bench -- NAME [ARGS…]`: runs bench/NAME.mjs, bench/NAME.sh or bench/NAME/index.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const candidates = name
  ? [
      [`${name}.mjs`, process.execPath],
      [`${name}.sh`, 'bash'],
      [join(name, 'index.mjs'), process.execPath],
    ]
  : [];
const found = candidates.find(([f]) => existsSync(join(here, f)));
if (!found) {
  const names = readdirSync(here)
    .filter((f) => f !== 'run.mjs' && /\.(mjs|sh)$/.test(f))
    .map((f) => f.replace(/\.(mjs|sh)$/, ''));
  console.error(`usage: npm run bench -- NAME [ARGS]\nbenchmarks: ${names.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(found[1], [join(here, found[0]), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
