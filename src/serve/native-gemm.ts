/**
 * The service's matrix products: the native kernels' sgemm for products big
 * enough to repay its packing, the engine's TypeScript loops for the rest (and
 * for everything when the native addon is not built).
 */
import type { Kernels } from '../kernels/types';
import { Gemm, typescriptGemm } from './engine';

/** Multiply-adds (m·n·k) from which a product goes to the native sgemm (below, a call costs more than the loops). */
const NATIVE_MIN_WORK = 16_384;

export function serviceGemm(kern: Kernels): Gemm {
  if (!kern.name.startsWith('native')) return typescriptGemm;
  return (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    if (m * n * k < NATIVE_MIN_WORK) typescriptGemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else kern.sgemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  };
}
