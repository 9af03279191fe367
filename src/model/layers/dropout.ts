/**
 * Inverted dropout: y = x · mask, mask ∈ {0, 1/(1−p)} drawn per element.
 * Shapes: x, y, mask have the same length. The mask is kept for the backward.
 */
import type { Rng } from '../../util/rng';

/** Draw a fresh mask of n elements (p = drop probability). */
export function dropoutMask(n: number, p: number, rng: Rng, out?: Float32Array): Float32Array {
  const mask = out ?? new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) mask[i] = rng.uniform() < p ? 0 : keep;
  return mask;
}

/** x ⊙= mask, in place (forward and backward are the same product). */
export function applyMask(x: Float32Array, mask: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] *= mask[i];
}
