/** Where the benchmarks find the repository, write their results and find the PyTorch mirror. */
import * as path from 'node:path';

/** Repository root (dist/bench/*.js → ../..). */
export const ROOT = path.resolve(__dirname, '..', '..');
/** Results of record (bench/results). */
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
/** The PyTorch mirror of the reference code. */
export const TORCH_SCRIPT = path.join(ROOT, 'bench', 'reference', 'fmrlrec_torch.py');
