/** `fmrlrec quickstart`: the whole pipeline on the embedded synthetic dataset, in about a minute. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { doublingLadder } from '../model/config';
import { defaultFeatures, DEFAULT_COUNT_PRIOR, DEFAULT_MODEL, DEFAULT_TRAIN } from '../run/defaults';
import { trainRun } from '../run/execute';
import { RUN_CONFIG_FILE, RunConfig } from '../run/run-config';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs } from './args';
import { CliContext, printReport } from './context';

/** `fmrlrec quickstart --help`. */
export const QUICKSTART_HELP = `Usage: fmrlrec quickstart [--out runs/quickstart] [--threads n]

Generates a synthetic dataset with item text (2,000 users, 400 items, learnable
sequential structure), encodes the item text with the built-in sentence
encoder, trains one fMRLRec model of width 64 (sizes 8, 16, 32, 64), evaluates
every size and prints the table. Re-running replaces an earlier quickstart run.

  --out <dir>       run folder                       (default runs/quickstart)
  --users <n>       synthetic users                  (default 2000)
  --items <n>       synthetic items                  (default 400)
  --threads <n>     kernel threads (default: all cores)
  --no-progress     no progress bars
`;

const OPTIONS: OptionSpec = {
  out: { type: 'string' },
  users: { type: 'string' },
  items: { type: 'string' },
  threads: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

/** Run `fmrlrec quickstart`. */
export async function quickstartCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('quickstart', argv, OPTIONS);
  if (v.help) {
    ctx.out(QUICKSTART_HELP);
    return 0;
  }
  const out = (v.out as string | undefined) ?? path.join('runs', 'quickstart');
  replaceEarlierQuickstart(out);
  const config: RunConfig = {
    version: 1,
    dataset: {
      kind: 'synthetic',
      name: 'synthetic',
      users: numberFlag(v, 'users', 2000, { min: 10, integer: true }),
      items: numberFlag(v, 'items', 400, { min: 20, integer: true }),
      seed: 1,
    },
    features: defaultFeatures(ctx.env.cacheDir),
    model: { ...DEFAULT_MODEL, dims: doublingLadder(64), dropout: 0.2 },
    train: { ...DEFAULT_TRAIN, epochs: 40, batchSize: 64, lr: 3e-3, warmupSteps: 20, patience: 5 },
    countPrior: DEFAULT_COUNT_PRIOR,
  };
  ctx.configureKernels(v.threads as string | undefined);
  const report = await trainRun(config, out, { ...ctx.jobOptions(!v['no-progress']), command: ctx.command });
  printReport(ctx, report, out);
  return 0;
}

/** Remove a previous quickstart run in `dir`; refuse to touch anything else. */
function replaceEarlierQuickstart(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const configFile = path.join(dir, RUN_CONFIG_FILE);
  let isQuickstart: boolean;
  try {
    isQuickstart = JSON.parse(fs.readFileSync(configFile, 'utf8')).dataset?.kind === 'synthetic';
  } catch {
    isQuickstart = fs.readdirSync(dir).length === 0;
  }
  if (!isQuickstart) throw new UserError(`${dir} exists and is not a quickstart run; choose another --out`);
  fs.rmSync(dir, { recursive: true, force: true });
}
