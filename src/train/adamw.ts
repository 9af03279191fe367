/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW,
 * over one flat parameter buffer cut into ranges that are or are not decayed.
 */
import type { Kernels } from '../kernels/types';

/** AdamW's settings. */
export interface AdamWConfig {
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Added to the root of the second moment. */
  eps: number;
  /** Decoupled weight decay (applied to decayed ranges only). */
  weightDecay: number;
}

/** A contiguous range of the flat buffer, whether it receives weight decay, and its learning-rate multiple. */
export interface DecayRange {
  offset: number;
  size: number;
  decay: boolean;
  /** The range's learning rate as a multiple of the step's (absent: 1). */
  lrScale?: number;
}

/** The optimiser: moments, step count, and the update of the flat parameter buffer. */
export class AdamW {
  /** First and second moment estimates (same layout as the parameters). */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Number of updates taken so far. */
  step = 0;

  /**
   * @param ranges cover [0, size) (e.g. ParamStore.specs: biases are not decayed)
   * @param kern   the kernels that run the update (e.g. the model's)
   */
  constructor(
    size: number,
    private readonly ranges: readonly DecayRange[],
    private readonly config: AdamWConfig,
    private readonly kern: Kernels,
  ) {
    const covered = ranges.reduce((s, r) => s + r.size, 0);
    if (covered !== size) throw new RangeError(`decay ranges cover ${covered} of ${size} parameters`);
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** One update of params in place from grads at learning rate lr (times each range's lrScale; kernel adamwUpdate per range). */
  update(params: Float32Array, grads: Float32Array, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.step++;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    const invSqrtBc2 = 1 / Math.sqrt(bc2);
    for (const range of this.ranges) {
      const rangeLr = lr * (range.lrScale ?? 1);
      const keep = range.decay ? 1 - rangeLr * weightDecay : 1;
      this.kern.adamwUpdate(params, grads, this.m, this.v, range.offset, range.size, beta1, beta2, eps, rangeLr / bc1, invSqrtBc2, keep);
    }
  }
}

/**
 * Scale grads in place so their global L2 norm is at most maxNorm (as
 * torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  const norm = Math.sqrt(sum);
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) for (let i = 0; i < grads.length; i++) grads[i] *= factor;
  return norm;
}
