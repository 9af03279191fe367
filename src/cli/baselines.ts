/** `fmrlrec baselines`: what counting alone scores on a dataset, under the model's protocol. */
import * as path from 'node:path';
import { BASELINES, type BaselineReport, evaluateBaselines } from '../eval/baselines';
import { DEFAULT_REACH, MAX_REACH } from '../model/count-prior';
import { metricsTable } from '../eval/report';
import { loadSplitDataset } from '../run/prepare';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec baselines --help`. */
export const BASELINES_HELP = `Usage: fmrlrec baselines --data <dir> [--window n] [--context n] [--name n] [--json]

Scores four counting baselines on a dataset folder (P5 layout) with the
model's protocol (leave-one-out, full ranking, history kept, pessimistic
ties; docs/method.md §2), on the validation and the test targets:

  popularity    items by how often they occur in the histories
  transitions   the items that followed the user's last item in anyone's
                history, most often first
  followers     the items that followed any of the user's last three items
                (--context) within three steps (--window) in anyone's
                history; a pair weighs half as much per step apart, and a
                user's item half as much per place further back
  neighbours    as followers, counting the items that came before as well

In the last three, popularity orders the items the counts leave tied.

Counts come only from what each evaluation may see. A model that does not
beat the counts has learned little beyond counting.

  --data <dir>   dataset folder (sequential_data.txt, datamaps.json)   (required)
  --window <n>   followers and neighbours count pairs at most n steps apart
                 (1..${MAX_REACH}, default ${DEFAULT_REACH.window})
  --context <n>  followers and neighbours look up the user's last n items
                 (1..${MAX_REACH}, default ${DEFAULT_REACH.context})
  --name <name>  dataset name in the output (default: the folder's name)
  --json         print the metrics as JSON instead of tables
`;

const OPTIONS: OptionSpec = {
  data: { type: 'string' },
  window: { type: 'string' },
  context: { type: 'string' },
  name: { type: 'string' },
  json: { type: 'boolean' },
};

/** Run `fmrlrec baselines`. */
export async function baselinesCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('baselines', argv, OPTIONS);
  if (v.help) {
    ctx.out(BASELINES_HELP);
    return 0;
  }
  const dataDir = path.resolve(requireString(v, 'data', 'baselines'));
  const reach = {
    window: numberFlag(v, 'window', DEFAULT_REACH.window, { integer: true, min: 1, max: MAX_REACH }),
    context: numberFlag(v, 'context', DEFAULT_REACH.context, { integer: true, min: 1, max: MAX_REACH }),
  };
  const name = (v.name as string | undefined) ?? path.basename(dataDir);
  const { dataset, split, notes } = loadSplitDataset({ kind: 'p5', path: dataDir, name });
  for (const note of notes) ctx.log(`${name}: ${note}`);
  const valid = evaluateBaselines(split, dataset.numItems, 'valid', reach);
  const test = evaluateBaselines(split, dataset.numItems, 'test', reach);
  if (v.json) {
    ctx.out(JSON.stringify({ dataset: name, users: split.train.length, items: dataset.numItems, reach, valid, test }, null, 2));
    return 0;
  }
  ctx.out(`${name}: ${split.train.length} users, ${dataset.numItems} items\n`);
  const share = (r: BaselineReport) => `${(100 * r.targetsSeenAfterLastItem).toFixed(1)} % of the targets followed the user's last item in some history`;
  ctx.out(`Validation (${share(valid)})\n\n${metricsTable(valid.metrics, BASELINES, 'baseline')}\n\n`);
  ctx.out(`Test (${share(test)})\n\n${metricsTable(test.metrics, BASELINES, 'baseline')}`);
  return 0;
}
