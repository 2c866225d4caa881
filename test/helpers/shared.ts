// Where ../shared is: beside the checkout (as CI lays it out), else the workplace's copy.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const besideCheckout = fileURLToPath(new URL('../../../shared', import.meta.url));

export const SHARED_DIR = existsSync(besideCheckout) ? besideCheckout : '/work/shared';
export const TLSRPT_FIXTURES = `${SHARED_DIR}/fixtures/tlsrpt-real`;
