/**
 * The service's arithmetic from the native kernels: sgemm for products big
 * enough to repay its packing (the engine's TypeScript loops for the rest),
 * and topItems to rank the catalogue for a batch of users. Without the native
 * addon, the engine's plain TypeScript.
 */
import type { Kernels } from '../kernels/types';
import { EngineKernels, TYPESCRIPT_ENGINE_KERNELS, typescriptGemm } from './engine';

/** Multiply-adds (m·n·k) from which a product goes to the native sgemm (below, a call costs more than the loops). */
const NATIVE_MIN_WORK = 16_384;

/** The engine's kernels for the service: native sgemm and topItems when `kern` is native, else the TypeScript ones. */
export function serviceKernels(kern: Kernels): EngineKernels {
  if (!kern.name.startsWith('native')) return TYPESCRIPT_ENGINE_KERNELS;
  return {
    gemm: (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (m * n * k < NATIVE_MIN_WORK) typescriptGemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      else kern.sgemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    topItems: (users, table, b, n1, d, k, ids, scores) => kern.topItems(users, table, b, n1, d, k, ids, scores),
  };
}
