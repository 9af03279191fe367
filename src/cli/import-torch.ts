/** `fmrlrec import-torch`: build a run folder from the authors' PyTorch weights. */
import { importTorchRun } from '../deploy/torch-run';
import { OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec import-torch --help`. */
export const IMPORT_TORCH_HELP = `Usage: fmrlrec import-torch --weights <ref.safetensors> --data <dir> --out <run>

Builds a run folder from a state_dict of the authors' PyTorch model
(github yueqirex/fMRLRec) saved as safetensors, complex tensors as float32
with a trailing dimension of 2 (docs/interop.md shows the Python lines). The
sizes and blocks are read from the tensors; the frozen feature tables
(embedding.token_lang / token_img) travel into the run folder. The run can then
be exported ("fmrlrec export"), queried and exported back ("fmrlrec export-torch").

  --weights <file>   reference state_dict in safetensors                    (required)
  --data <dir>       the dataset it was trained on (P5 layout)               (required)
  --out <dir>        run folder to create                                    (required)
  --threads <n>      kernel threads (default: all cores)
`;

const OPTIONS: OptionSpec = { weights: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' } };

/** Run `fmrlrec import-torch`. */
export async function importTorchCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('import-torch', argv, OPTIONS);
  if (v.help) {
    ctx.out(IMPORT_TORCH_HELP);
    return 0;
  }
  const weights = requireString(v, 'weights', 'import-torch');
  const data = requireString(v, 'data', 'import-torch');
  const out = requireString(v, 'out', 'import-torch');
  const kern = ctx.configureKernels(v.threads as string | undefined);
  const s = importTorchRun(weights, data, out, { kern, cacheDir: ctx.env.cacheDir });
  ctx.out(`Imported ${s.numBlocks} block(s), sizes ${s.dims.join(', ')}, ${s.numItems} items, features ${s.langDim} text + ${s.imgDim} image -> ${out}`);
  return 0;
}
