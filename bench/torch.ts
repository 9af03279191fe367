/**
 * The PyTorch baseline (bench/reference/fmrlrec_torch.py): finding a python3
 * with torch, running the mirror, and deciding whether its BLAS is fit to be
 * compared with (a speed-up over a slow BLAS measures the BLAS).
 */
import { spawnSync } from 'node:child_process';

import { BenchArgs, flagString } from './options';
import { TORCH_SCRIPT } from './paths';
import { RESULT_MARK } from './worker';

/** The python3 with torch the baseline runs with. */
export interface TorchInfo {
  /** The interpreter. */
  python: string;
  /** torch.__version__. */
  version: string;
  /** GFLOP/s of torch's 2048³ sgemm with the threads the baseline uses. */
  peak: number;
  /** The BLAS library torch's process has loaded (openblas, libmkl, blis, libblas or unknown). */
  blas: string;
}

let torchCache: TorchInfo | null | undefined;

/** The first python3 that imports torch ($FMRLREC_PYTHON, python3 on PATH, /usr/bin/python3), or null. */
export function findTorch(args?: BenchArgs, threads = 2): TorchInfo | null {
  if (torchCache !== undefined) return torchCache;
  const forced = args ? flagString(args, 'python', '') : '';
  const candidates = [forced, process.env.FMRLREC_PYTHON ?? '', 'python3', '/usr/bin/python3', 'python'].filter((c) => c !== '');
  torchCache = null;
  for (const python of [...new Set(candidates)]) {
    const res = spawnSync(python, [TORCH_SCRIPT, 'peak', '--threads', String(threads)], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), ...baselineEnv },
    });
    if (res.status === 0) {
      const info = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { version: string; peak: number; blas: string };
      torchCache = { python, version: info.version, peak: info.peak, blas: info.blas };
      break;
    }
  }
  return torchCache;
}

/** Run the PyTorch mirror; returns its JSON result. */
export function runTorch<T>(torch: TorchInfo, argv: string[], timeoutSeconds = 1800): T {
  const threads = argv.includes('--threads') ? argv[argv.indexOf('--threads') + 1] : '2';
  const res = spawnSync(torch.python, [TORCH_SCRIPT, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: timeoutSeconds * 1000,
    maxBuffer: 64 << 20,
    // libgomp's idle threads spin by default and then compete with OpenBLAS's own two threads on a
    // 2-core machine; PASSIVE made the baseline 12–20% faster here, so it is the default (fair to the baseline).
    env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_WAIT_POLICY: 'PASSIVE', ...baselineEnv },
  });
  if (res.error) throw res.error;
  const line = res.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (res.status !== 0 || !line) throw new Error(`PyTorch baseline failed (exit ${res.status ?? res.signal}): ${TORCH_SCRIPT} ${argv.join(' ')}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

/** Extra environment for the PyTorch baseline (`--baseline-env OMP_WAIT_POLICY=PASSIVE,...`), e.g. to try threading settings. */
let baselineEnv: Record<string, string> = {};

/** Set the extra environment of the baseline (and of its sgemm probe) from "K=V,K=V". */
export function setBaselineEnv(spec: string): void {
  baselineEnv = {};
  for (const kv of spec.split(',').filter((x) => x.includes('='))) {
    const eq = kv.indexOf('=');
    baselineEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
}

/** Why there is no baseline, and how to get one. */
export function torchMissingNote(): string {
  return (
    'PyTorch baseline: not run — no python3 with torch found (Debian: `apt-get install python3-torch libopenblas0`; ' +
    "or set FMRLREC_PYTHON / --python). The project's own figures follow."
  );
}

/** Whether the baseline's BLAS is fit to compare with, and the line that says so. */
export interface BlasVerdict {
  /** True when the baseline's sgemm reaches half of the project's at the same thread count. */
  fit: boolean;
  /** One line for the report: the two sgemm rates; when unfit, that no speed-up is reported, why, and the fix. */
  line: string;
}

/**
 * A speed-up over a baseline whose sgemm is below half of the project's would
 * measure its BLAS, not the implementation: a reference BLAS, or an OpenBLAS
 * that misdetects the CPU (Debian 12's reports some current Xeons as
 * "Prescott" and runs about 6× slower until OPENBLAS_CORETYPE is set).
 * @param projectGflops the project's 2048³ sgemm with `threads` threads
 */
export function baselineBlasVerdict(torch: Pick<TorchInfo, 'peak' | 'blas'>, projectGflops: number, threads: number): BlasVerdict {
  const rates = `PyTorch sgemm ${torch.peak.toFixed(0)} GFLOP/s (BLAS ${torch.blas}), project ${projectGflops.toFixed(0)} GFLOP/s, both at ${threads} thread(s)`;
  if (torch.peak >= 0.5 * projectGflops) return { fit: true, line: `baseline BLAS: ${rates}` };
  return {
    fit: false,
    line:
      `speed-up not reported: the baseline's sgemm is below half of the project's (${rates}), so a speed-up would measure its BLAS. ` +
      'A reference BLAS, or an OpenBLAS that misdetects the CPU (Debian 12\'s reports some current Xeons as "Prescott", ~6× slower), does this. ' +
      'Fix: name the core for OpenBLAS, e.g. `npm run bench -- train --baseline-env OPENBLAS_CORETYPE=SkylakeX` (Haswell on AVX2-only CPUs), ' +
      'or give torch an optimised BLAS (Debian: `apt-get install libopenblas0-pthread`), then run again.',
  };
}
