/**
 * The count prior on the command line: the flags `train` and `fit-counts`
 * share, and `fmrlrec fit-counts`, which fits (or refits, or removes) the
 * count prior of a trained run as `train` does after training.
 */
import { BETA_GRID } from '../eval/count-prior-fit';
import { COUNT_RULES, type CountRule, MAX_REACH } from '../model/count-prior';
import { DEFAULT_COUNT_PRIOR } from '../run/defaults';
import { fitRunCountPrior } from '../run/execute';
import type { CountPriorRecipe } from '../run/run-config';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import { CliContext, printReport } from './context';

/** The count-prior lines of a command's help. */
export const COUNT_PRIOR_FLAGS_HELP = `  --counts <rules>        count prior fitted after training: the item's score
                          becomes the network's + β·log(1 + c), c its count under
                          followers or neighbours (see "fmrlrec baselines"),
                          the rule and β per size (${BETA_GRID.join(', ')})
                          chosen on validation; ${COUNT_RULES.join(',')}, one of
                          them, or none                (default ${DEFAULT_COUNT_PRIOR.rules.join(',')})
  --count-window <n>      pairs counted at most n steps apart (1..${MAX_REACH})    (default ${DEFAULT_COUNT_PRIOR.reach.window})
  --count-context <n>     the user's last n items looked up (1..${MAX_REACH})      (default ${DEFAULT_COUNT_PRIOR.reach.context})`;

/** The options behind {@link COUNT_PRIOR_FLAGS_HELP}. */
export const COUNT_PRIOR_OPTIONS: OptionSpec = {
  counts: { type: 'string' },
  'count-window': { type: 'string' },
  'count-context': { type: 'string' },
};

/**
 * --counts, --count-window and --count-context: the recipe, or null for none.
 * @throws UserError for an unknown rule, a repeated one, or a reach with --counts none
 */
export function parseCountPriorFlags(values: Record<string, unknown>): CountPriorRecipe | null {
  const given = values.counts as string | undefined;
  const reach = {
    window: numberFlag(values, 'count-window', DEFAULT_COUNT_PRIOR.reach.window, { integer: true, min: 1, max: MAX_REACH }),
    context: numberFlag(values, 'count-context', DEFAULT_COUNT_PRIOR.reach.context, { integer: true, min: 1, max: MAX_REACH }),
  };
  if (given === 'none') {
    if (values['count-window'] !== undefined || values['count-context'] !== undefined) {
      throw new UserError('--count-window and --count-context need a count prior (not --counts none)');
    }
    return null;
  }
  const rules = given === undefined ? DEFAULT_COUNT_PRIOR.rules : given.split(',').map((r) => r.trim());
  if (rules.some((r) => !(COUNT_RULES as readonly string[]).includes(r)) || new Set(rules).size !== rules.length) {
    throw new UserError(`--counts takes ${COUNT_RULES.join(' and/or ')} joined by ",", or none (got "${given}")`);
  }
  return { rules: rules as CountRule[], reach };
}

/** `fmrlrec fit-counts --help`. */
export const FIT_COUNTS_HELP = `Usage: fmrlrec fit-counts --run <dir> [--counts <rules>|none] [options]

Fits the count prior of a trained run, as "fmrlrec train" does after
training: ranks the validation targets with the network's score plus
β·log(1 + c) under each rule at every β, keeps the best rule and β per size,
ranks the test targets once, and rewrites <run>/metrics.json and metrics.md
(the network's own figures are kept beside). Use it on runs trained before
the prior existed, to try another rule, or with --counts none to remove it.

  --run <dir>             run folder made by "fmrlrec train"          (required)
${COUNT_PRIOR_FLAGS_HELP}
  --threads <n>           kernel threads (default: all cores)
  --no-progress           no progress bars
`;

const OPTIONS: OptionSpec = {
  run: { type: 'string' },
  ...COUNT_PRIOR_OPTIONS,
  threads: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

/** Run `fmrlrec fit-counts`. */
export async function fitCountsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('fit-counts', argv, OPTIONS);
  if (v.help) {
    ctx.out(FIT_COUNTS_HELP);
    return 0;
  }
  const runDir = requireString(v, 'run', 'fit-counts');
  const recipe = parseCountPriorFlags(v);
  ctx.configureKernels(v.threads as string | undefined);
  const report = await fitRunCountPrior(runDir, { ...ctx.jobOptions(!v['no-progress']), recipe, command: ctx.command });
  printReport(ctx, report, runDir);
  return 0;
}
