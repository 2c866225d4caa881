// Runs the mta-sts CLI from source (for tests that spawn it as a separate process).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
