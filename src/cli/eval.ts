/** `fmrlrec eval`: reload a run's best checkpoint and evaluate every size. */
import { metricsTable } from '../eval/report';
import { evaluateRun } from '../run/execute';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec eval --help`. */
export const EVAL_HELP = `Usage: fmrlrec eval --run <dir> [--exclude-history] [--json] [--threads n]

Reloads <run>/best.safetensors, rebuilds the run's data and features, and ranks
every user's validation and test target against all items at every size
(full ranking, pessimistic ties, protocol of docs/method.md §2), with the
run's count prior when it has one (at its fitted β) and without. Prints the
test table and checks every figure against <run>/metrics.json.

  --run <dir>          run folder made by "fmrlrec train"              (required)
  --exclude-history    remove each user's history items from the ranking
                       (not the paper's protocol; the network alone; writes
                       metrics-exclude-history.json)
  --json               print the metrics as JSON instead of a table
  --threads <n>        kernel threads (default: all cores)
  --no-progress        no progress bars
`;

const OPTIONS: OptionSpec = {
  run: { type: 'string' },
  'exclude-history': { type: 'boolean' },
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
  ctx.configureKernels(v.threads as string | undefined);
  const { report, differenceToSaved } = await evaluateRun(runDir, { ...ctx.jobOptions(!v['no-progress']), excludeHistory: Boolean(v['exclude-history']) });
  if (v.json) {
    ctx.out(JSON.stringify(report, null, 2));
  } else {
    const prior = report.count_prior ? `, with the count prior (${report.count_prior.rule})` : '';
    ctx.out(`${report.dataset} — test, every size${v['exclude-history'] ? ' (history excluded)' : prior}\n`);
    ctx.out(metricsTable(report.test, report.dims));
  }
  if (differenceToSaved !== null) {
    const ok = differenceToSaved <= 1e-6;
    ctx.log(`${ok ? 'matches' : 'DIFFERS FROM'} ${runDir}/metrics.json (largest difference ${differenceToSaved.toExponential(2)})`);
    return ok ? 0 : 1;
  }
  return 0;
}
