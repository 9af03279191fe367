/**
 * `npm run bench -- <command> [options]`: the flags, parsed by the CLI's
 * parser (src/cli/args.ts), so a bad flag is one line pointing at --help.
 */
import { FlagValues, numberFlag, OptionSpec, parseFlags } from '../src/cli/args';

/** Every flag of `npm run bench` (bench/run.ts's help says which command reads which). */
export const BENCH_OPTIONS: OptionSpec = Object.fromEntries([
  ...[
    'configs',
    'config',
    'steps',
    'warmup',
    'repeats',
    'baseline-steps',
    'baseline-repeats',
    'profile-steps',
    'eval-batch',
    'baseline-batches',
    'scaling-steps',
    'scaling-warmup',
    'batch',
    'feature-dim',
    'check-config',
    'check-steps',
    'check-lr',
    'data',
    'python',
    'threads',
    'seed',
    'baseline-env',
    'negatives',
  ].map((name) => [name, { type: 'string' as const }]),
  ...['json', 'no-baseline', 'no-check', 'grid', 'keep-heap', 'item-ids'].map((name) => [name, { type: 'boolean' as const }]),
]);

/** A parsed bench command line: the command (and any other positional words) and the flags. */
export interface BenchArgs {
  positional: string[];
  values: FlagValues;
}

/** Parse the bench's command line. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values, positionals } = parseFlags('npm run bench --', argv, BENCH_OPTIONS, true);
  return { positional: positionals, values };
}

/** A number flag, or `fallback` when absent. */
export function flagNumber(args: BenchArgs, name: string, fallback: number): number {
  return numberFlag(args.values, name, fallback);
}

/** A string flag, or `fallback` when absent. */
export function flagString(args: BenchArgs, name: string, fallback: string): string {
  const v = args.values[name];
  return typeof v === 'string' ? v : fallback;
}

/** Whether a boolean flag was given. */
export function flagBool(args: BenchArgs, name: string): boolean {
  return args.values[name] === true;
}
