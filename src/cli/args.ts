/**
 * Small helpers over node:util parseArgs so every command (and `npm run bench`)
 * reports bad flags the same way: one line naming the flag, plus a pointer to
 * --help.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors';

/** The flags a command takes: name → string or boolean (as node:util parseArgs describes them). */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

/** Parsed flag values by name (a flag not given is undefined). */
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * Parse argv against `options` (plus -h/--help), and positional words when
 * allowed. Unknown or malformed flags become a UserError that points at
 * `${program} --help`.
 */
export function parseFlags(program: string, argv: string[], options: OptionSpec, allowPositionals = false): { values: FlagValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
    return { values: values as FlagValues, positionals };
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]} (see "${program} --help")`);
  }
}

/** Parse argv for `fmrlrec <command>`; unknown or malformed flags become a UserError. */
export function parseCommandArgs(command: string, argv: string[], options: OptionSpec): FlagValues {
  return parseFlags(`fmrlrec ${command}`, argv, options).values;
}

/** A required string flag. */
export function requireString(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UserError(`--${name} is required (see "fmrlrec ${command} --help")`);
  return v;
}

/** An optional number flag, checked to be finite and within [min, max] (and an integer when asked). */
export function numberFlag(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UserError(`--${name} must be a number (got "${String(v)}")`);
  if (opts.integer && !Number.isInteger(n)) throw new UserError(`--${name} must be an integer (got ${v})`);
  if (opts.min !== undefined && n < opts.min) throw new UserError(`--${name} must be >= ${opts.min} (got ${v})`);
  if (opts.max !== undefined && n > opts.max) throw new UserError(`--${name} must be <= ${opts.max} (got ${v})`);
  return n;
}

/** A comma-separated list of positive integers, e.g. --dims 8,16,32. */
export function intListFlag(values: Record<string, unknown>, name: string): number[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UserError(`--${name} must be a comma-separated list of positive integers (got "${String(v)}")`);
  }
  return nums;
}
