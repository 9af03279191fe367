/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW,
 * over one flat parameter buffer; a 0/1 mask says which entries are decayed.
 */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class AdamW {
  /** First and second moment estimates (same layout as the parameters). */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Number of updates taken so far. */
  step = 0;

  constructor(size: number, private readonly decayMask: Uint8Array, private readonly config: AdamWConfig) {
    if (decayMask.length !== size) throw new RangeError('decay mask size mismatch');
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** One update of params in place from grads at learning rate lr. */
  update(params: Float32Array, grads: Float32Array, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.step++;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    const decay = 1 - lr * weightDecay;
    const { m, v, decayMask } = this;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      if (decayMask[i]) params[i] *= decay;
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps);
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
