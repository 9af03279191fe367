/** `fmrlrec export`: write a trained run's size-m model (or every size) as a self-contained folder. */
import { checkExportSize, exportAllSizes, exportSize, exportSourceOf } from '../deploy/export';
import type { SizeManifest } from '../deploy/format';
import { loadTrainedRun } from '../run/trained-run';
import { loadRunConfig } from '../run/run-config';
import { UserError } from '../util/errors';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec export --help`. */
export const EXPORT_HELP = `Usage: fmrlrec export --run <dir> --size <m|all> --out <dir> [--force]

Slices a trained run's best model to size m and writes a folder that needs
nothing else to serve it (see docs/serving.md):
  manifest.json           size, parameters, bytes, validation/test metrics
  config.json             the size-m model's configuration
  model.safetensors       its weights
  item_table.safetensors  item embeddings E[:, 0:m], precomputed
  items.json              item id <-> ASIN <-> title
With --size all: one such folder per size (size-8/, size-16/, ...) and index.json.

  --run <dir>       run folder made by "fmrlrec train" or "fmrlrec import-torch" (required)
  --size <m|all>    a size of the run's ladder, or all                        (required)
  --out <dir>       folder to write                                            (required)
  --force           replace an earlier export in --out
  --threads <n>     kernel threads (default: all cores)
  --no-progress     no progress bars
`;

const OPTIONS: OptionSpec = {
  run: { type: 'string' },
  size: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  threads: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

function describe(manifest: SizeManifest, dir: string): string {
  const recall = manifest.metrics
    ? `valid Recall@10 ${manifest.metrics.valid['Recall@10'].toFixed(4)}, NDCG@10 ${manifest.metrics.valid['NDCG@10'].toFixed(4)}`
    : 'no metrics';
  return (
    `size ${String(manifest.size).padStart(4)}: ${manifest.parameters.toLocaleString('en-US')} parameters, ` +
    `${(manifest.bytes.total / 1e6).toFixed(2)} MB, ${recall} -> ${dir}`
  );
}

/** Run `fmrlrec export`. */
export async function exportCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('export', argv, OPTIONS);
  if (v.help) {
    ctx.out(EXPORT_HELP);
    return 0;
  }
  const runDir = requireString(v, 'run', 'export');
  const sizeFlag = requireString(v, 'size', 'export');
  const out = requireString(v, 'out', 'export');
  const size = sizeFlag === 'all' ? 'all' : Number(sizeFlag);
  if (size !== 'all' && !(Number.isInteger(size) && size > 0)) throw new UserError(`--size must be a size of the model's ladder or "all" (got "${sizeFlag}")`);
  if (size !== 'all') checkExportSize(loadRunConfig(runDir).model.dims, size);
  ctx.configureKernels(v.threads as string | undefined);
  const source = exportSourceOf(await loadTrainedRun(runDir, ctx.jobOptions(!v['no-progress'])));
  const force = Boolean(v.force);
  if (size === 'all') {
    exportAllSizes(source, out, { force, onSize: (manifest) => ctx.out(describe(manifest, `${out}/size-${manifest.size}`)) });
    ctx.out(`Wrote ${out}/index.json`);
  } else {
    ctx.out(describe(exportSize(source, size, out, { force }), out));
  }
  return 0;
}
