/** `fmrlrec export-torch`: write a run's best model with the authors' PyTorch names and shapes. */
import { exportTorchRun } from '../deploy/torch-run';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec export-torch --help`. */
export const EXPORT_TORCH_HELP = `Usage: fmrlrec export-torch --run <dir> --out <ref.safetensors>

Writes a run's best model as a state_dict of the authors' PyTorch model
(github yueqirex/fMRLRec) in safetensors: the reference's names and shapes,
complex tensors as float32 with a trailing dimension of 2 (docs/interop.md
shows how to load it into the reference model). Runs with a learned item-ID
embedding (trained with features "+id") have no reference counterpart and are
refused.

  --run <dir>        run folder ("fmrlrec train" or "fmrlrec import-torch")  (required)
  --out <file>       safetensors file to write                               (required)
  --threads <n>      kernel threads (default: all cores)
  --no-progress      no progress bars
`;

const OPTIONS: OptionSpec = { run: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, 'no-progress': { type: 'boolean' } };

/** Run `fmrlrec export-torch`. */
export async function exportTorchCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('export-torch', argv, OPTIONS);
  if (v.help) {
    ctx.out(EXPORT_TORCH_HELP);
    return 0;
  }
  const runDir = requireString(v, 'run', 'export-torch');
  const out = requireString(v, 'out', 'export-torch');
  ctx.configureKernels(v.threads as string | undefined);
  const count = await exportTorchRun(runDir, out, ctx.jobOptions(!v['no-progress']));
  ctx.out(`Wrote ${count} tensors with the reference's names to ${out}`);
  return 0;
}
