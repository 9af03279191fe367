/**
 * Small helpers over node:util parseArgs so every command reports bad flags the
 * same way: one line naming the flag, plus a pointer to --help.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

/** Parse argv for a command; unknown or malformed flags become a UserError. */
export function parseCommandArgs(command: string, argv: string[], options: OptionSpec): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]} (see "fmrlrec ${command} --help")`);
  }
}

/** A required string flag. */
export function requireString(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UserError(`--${name} is required (see "fmrlrec ${command} --help")`);
  return v;
}

/** An optional number flag, checked to be finite and within [min, max] (and an integer when asked). */
export function numberFlag(values: Record<string, unknown>, name: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
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
  const parts = String(v).split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UserError(`--${name} must be a comma-separated list of positive integers (got "${String(v)}")`);
  }
  return nums;
}
