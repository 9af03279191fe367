/** `fmrlrec report`: tables and charts over several runs, from their metrics.json. */
import { writeResultsReport } from '../report/write-report';
import { UserError } from '../util/errors';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** The text `fmrlrec report --help` prints. */
export const REPORT_HELP = `Usage: fmrlrec report --runs <dir,dir,...> --out <folder>

Reads each run folder's run.json and metrics.json (made by "fmrlrec train"),
groups the runs by dataset and writes, into <folder>:
  report.md        per dataset: every run at its largest size beside the paper's
                   rows (with the features each used), test NDCG@10 and
                   Recall@10 at every size, and the spread over seeds
  <dataset>.svg    test NDCG@10 and Recall@10 against size: one line per series,
                   the paper's per-size curve dashed where it published one
Runs trained with one size each (--dims m) form an "independent" series; a run
with a ladder of sizes is "nested". Runs that differ only in --seed are averaged
(mean ± sample standard deviation). Prints a summary table. Needs the packages
vega and vega-lite.

  --runs <list>     comma-separated run folders                      (required)
  --out <folder>    folder for report.md and the charts              (required)
`;

const OPTIONS: OptionSpec = { runs: { type: 'string' }, out: { type: 'string' } };

/** Run `fmrlrec report`: write report.md and one chart per dataset over the given runs; resolves to the exit code. */
export async function reportCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('report', argv, OPTIONS);
  if (v.help) {
    ctx.out(REPORT_HELP);
    return 0;
  }
  const runs = requireString(v, 'runs', 'report')
    .split(',')
    .map((s) => s.trim());
  if (runs.some((s) => s === '')) throw new UserError(`--runs must be a comma-separated list of run folders (got "${String(v.runs)}")`);
  const out = requireString(v, 'out', 'report');
  const written = await writeResultsReport(runs, out, ['fmrlrec', ...ctx.argv].join(' '));
  ctx.out(written.summary);
  ctx.log(`Wrote ${[written.markdownFile, ...written.chartFiles].join(', ')}`);
  return 0;
}
