/**
 * The service's matrix products: the native kernels' sgemm for products big
 * enough to repay its packing, the engine's TypeScript loops for the rest (and
 * for everything when the native addon is not built).
 */
import type { Kernels } from '../kernels/types';
import { Gemm, typescriptGemm } from './engine';

/** Rows of A (users or packed positions) from which the native sgemm is used. */
const NATIVE_MIN_ROWS = 4;

export function serviceGemm(kern: Kernels): Gemm {
  if (!kern.name.startsWith('native')) return typescriptGemm;
  return (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    if (m < NATIVE_MIN_ROWS) typescriptGemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else kern.sgemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  };
}
