// `mta-sts sim SCENARIO`: run a simulated mail domain on loopback in the foreground and print
// the flags that point `mta-sts check` at it. Stops on SIGINT / SIGTERM.
import type { Command } from 'commander';
import { demoScenario } from '../../sim/demo-scenario.js';
import { loadScenarioFile, type Scenario, ScenarioError, type ScenarioInput } from '../../sim/scenario.js';
import { type Simulation, startSimulation } from '../../sim/simulation.js';
import { colors, EXIT_OK, parseIntegerOption, printJson, UsageError } from '../output.js';

interface SimOptions {
  demo?: boolean;
  dnsPort?: string;
  json?: boolean;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:@=,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function simSummary(sim: Simulation): {
  domains: string[];
  dns: { address: string; port: number };
  caFile: string;
  hosts: Simulation['hosts'];
  checkFlags: string[];
  checkCommand: string;
} {
  const domains = sim.scenario.domains.map((d) => d.name);
  const checkCommand = ['mta-sts', 'check', ...domains, ...sim.checkFlags].map(shellQuote).join(' ');
  return {
    domains,
    dns: sim.dns,
    caFile: sim.caFile,
    hosts: sim.hosts,
    checkFlags: sim.checkFlags,
    checkCommand,
  };
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run a simulated mail domain (DNS, HTTPS policy host, SMTP with STARTTLS) on loopback')
    .argument('[scenario]', 'scenario file (YAML); see docs/sim.md')
    .option('--demo', 'use the built-in demo scenario (healthy.example, testing.example, stale.example)')
    .option('--dns-port <port>', 'serve DNS on this port of 127.0.0.1 (default: any free port)')
    .option('--json', 'print the connection details as one JSON object, then keep running')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts sim scenario.yaml
  mta-sts sim --demo --dns-port 5353

Runs until interrupted (Ctrl-C, SIGTERM). Exit status: 0 stopped cleanly, 2 bad scenario or usage.`,
    )
    .action(async (file: string | undefined, opts: SimOptions) => {
      process.exitCode = await runSim(file, opts);
    });
}

async function runSim(file: string | undefined, opts: SimOptions): Promise<number> {
  if (file === undefined && !opts.demo) throw new UsageError('give a SCENARIO file or --demo');
  if (file !== undefined && opts.demo)
    throw new UsageError('give either a SCENARIO file or --demo, not both');
  const dnsPort = opts.dnsPort === undefined ? 0 : parseIntegerOption('--dns-port', opts.dnsPort, 1, 65535);
  let scenario: Scenario | ScenarioInput = demoScenario;
  if (file !== undefined) {
    try {
      scenario = await loadScenarioFile(file);
    } catch (err) {
      if (err instanceof ScenarioError) throw new UsageError(err.message, err.code);
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`);
    }
  }
  let sim: Simulation;
  try {
    sim = await startSimulation(scenario, { dnsPort });
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(err.message, err.code);
    throw err;
  }
  const summary = simSummary(sim);
  if (opts.json) {
    printJson(summary);
  } else {
    const c = colors();
    const out: string[] = [];
    out.push(c.bold(`Simulating ${summary.domains.join(', ')}`));
    out.push(`  DNS       ${sim.dns.address}:${sim.dns.port} (UDP and TCP, authoritative)`);
    out.push(`  CA        ${sim.caFile}`);
    for (const h of sim.hosts) {
      out.push(
        `  ${h.kind === 'policy' ? 'HTTPS' : 'SMTP '}     ${h.name} [${h.addresses.join(', ')}]:${h.port} -> ${h.listen.address}:${h.listen.port}`,
      );
    }
    out.push('');
    out.push('Check it with:');
    out.push(`  ${summary.checkCommand}`);
    out.push('');
    out.push(c.dim('Press Ctrl-C to stop.'));
    process.stdout.write(`${out.join('\n')}\n`);
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await sim.stop();
  if (!opts.json) process.stderr.write('simulation stopped\n');
  return EXIT_OK;
}
