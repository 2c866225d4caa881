// Shared rendering helpers for every command: colours that respect NO_COLOR / non-TTY,
// JSON printing, and the exit-code contract (0 fine, 1 problems found, 2 usage/operational).
import pc from 'picocolors';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** An error that ends a command with exit code 2 and a one-line message (no stack trace). */
export class UsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'usage') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY);
}

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(stream: NodeJS.WriteStream = process.stdout): Colors {
  return pc.createColors(useColor(stream));
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function severityLabel(c: Colors, severity: 'error' | 'warning' | 'info'): string {
  if (severity === 'error') return c.red(c.bold('error'));
  if (severity === 'warning') return c.yellow(c.bold('warning'));
  return c.cyan('info');
}

/** Parse an integer option, or throw a UsageError naming the option. */
export function parseIntegerOption(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
