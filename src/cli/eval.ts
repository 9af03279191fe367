/** `fmrlrec eval`: reload a run's best checkpoint and evaluate every size. */
import { metricsTable } from '../eval/report';
import { BLEND_GRID, BLEND_RULES, type BlendRule } from '../eval/count-blend';
import { countBlendFile, evaluateRun, evaluateRunCountBlend } from '../run/execute';
import { UserError } from '../util/errors';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec eval --help`. */
export const EVAL_HELP = `Usage: fmrlrec eval --run <dir> [--exclude-history | --count-blend <rule>] [--json] [--threads n]

Reloads <run>/best.safetensors, rebuilds the run's data and features, and ranks
every user's validation and test target against all items at every size
(full ranking, pessimistic ties, protocol of docs/method.md §2). Prints the test table and
checks it against <run>/metrics.json.

  --run <dir>          run folder made by "fmrlrec train"              (required)
  --exclude-history    remove each user's history items from the ranking
                       (not the paper's protocol; writes metrics-exclude-history.json)
  --count-blend <rule> rank by the model's score plus β · log(1 + c), c the
                       item's count under a counting rule of "fmrlrec
                       baselines" (${BLEND_RULES.join(' or ')}), with β per size
                       chosen on validation from ${BLEND_GRID.join(', ')}
                       (a hybrid, not the paper's method; writes
                       metrics-count-blend-<rule>.json)
  --json               print the metrics as JSON instead of a table
  --threads <n>        kernel threads (default: all cores)
  --no-progress        no progress bars
`;

const OPTIONS: OptionSpec = {
  run: { type: 'string' },
  'exclude-history': { type: 'boolean' },
  'count-blend': { type: 'string' },
  json: { type: 'boolean' },
  threads: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

/** Run `fmrlrec eval`. */
export async function evalCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('eval', argv, OPTIONS);
  if (v.help) {
    ctx.out(EVAL_HELP);
    return 0;
  }
  const runDir = requireString(v, 'run', 'eval');
  const blend = v['count-blend'] as string | undefined;
  if (blend !== undefined) {
    if (!(BLEND_RULES as readonly string[]).includes(blend)) throw new UserError(`--count-blend takes ${BLEND_RULES.join(' or ')} (got "${blend}")`);
    if (v['exclude-history']) throw new UserError('--count-blend and --exclude-history do not combine');
    ctx.configureKernels(v.threads as string | undefined);
    const report = await evaluateRunCountBlend(runDir, blend as BlendRule, ctx.jobOptions(!v['no-progress']));
    if (v.json) {
      ctx.out(JSON.stringify(report, null, 2));
    } else {
      const sizes = Object.keys(report.beta);
      ctx.out(`${report.dataset} — test, every size, model + β · log(1 + ${blend} count)\n`);
      ctx.out(`β chosen on validation: ${sizes.map((m) => `${m}: ${report.beta[m]}`).join(', ')}\n\n`);
      ctx.out(metricsTable(report.test, sizes.map(Number)));
    }
    ctx.log(`wrote ${runDir}/${countBlendFile(blend as BlendRule)}`);
    return 0;
  }
  ctx.configureKernels(v.threads as string | undefined);
  const { report, differenceToSaved } = await evaluateRun(runDir, { ...ctx.jobOptions(!v['no-progress']), excludeHistory: Boolean(v['exclude-history']) });
  if (v.json) {
    ctx.out(JSON.stringify(report, null, 2));
  } else {
    ctx.out(`${report.dataset} — test, every size${v['exclude-history'] ? ' (history excluded)' : ''}\n`);
    ctx.out(metricsTable(report.test, report.dims));
  }
  if (differenceToSaved !== null) {
    const ok = differenceToSaved <= 1e-6;
    ctx.log(`${ok ? 'matches' : 'DIFFERS FROM'} ${runDir}/metrics.json (largest difference ${differenceToSaved.toExponential(2)})`);
    return ok ? 0 : 1;
  }
  return 0;
}
