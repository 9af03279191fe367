/** AdamW (decoupled decay, biases not decayed), gradient clipping and the warm-up + cosine schedule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableNativeVariants, loadNativeKernels, referenceKernels as twin } from '../src/kernels';
import { AdamW, clipGradNorm } from '../src/train/adamw';
import { warmupCosine } from '../src/train/schedule';
import { Rng } from '../src/util/rng';

test("AdamW matches the torch.optim.AdamW update, decaying only the decayed ranges, at each range's multiple of the rate", () => {
  const params = Float32Array.from([1, -2, 0.5]);
  const ranges = [
    { offset: 0, size: 1, decay: true },
    { offset: 1, size: 1, decay: true, lrScale: 3 },
    { offset: 2, size: 1, decay: false },
  ];
  const cfg = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
  const adam = new AdamW(3, ranges, cfg, twin);
  const lr = 0.01;
  const gradSeq = [
    [0.5, -1, 2],
    [0.1, 0.3, -0.2],
  ];
  // Reference: the torch AdamW formulas, in float64.
  const p = [1, -2, 0.5];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  gradSeq.forEach((g, s) => {
    adam.update(params, Float32Array.from(g), lr);
    const t = s + 1;
    for (let i = 0; i < 3; i++) {
      const rate = i === 1 ? 3 * lr : lr; // the middle range's lrScale
      if (i < 2) p[i] *= 1 - rate * cfg.weightDecay;
      m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g[i];
      v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * g[i] * g[i];
      const mHat = m[i] / (1 - cfg.beta1 ** t);
      const vHat = v[i] / (1 - cfg.beta2 ** t);
      p[i] -= (rate * mHat) / (Math.sqrt(vHat) + cfg.eps);
    }
  });
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(params[i] - p[i]) < 1e-6, `param ${i}: ${params[i]} vs ${p[i]}`);
  assert.equal(adam.step, 2);
  assert.throws(() => new AdamW(4, ranges, cfg, twin), /cover 3 of 4/);
});

for (const variant of availableNativeVariants()) {
  test(`AdamW through the native-${variant} kernels equals the twin bit for bit over several steps`, () => {
    const native = loadNativeKernels(variant);
    const rng = new Rng(7);
    // Decayed and undecayed ranges of odd sizes; the largest is cut into tasks.
    const sizes = [40_001, 17, 1, 1025, 3, 255];
    let offset = 0;
    const ranges = sizes.map((size, i) => {
      const range = { offset, size, decay: i % 2 === 0 };
      offset += size;
      return range;
    });
    const cfg = { beta1: 0.9, beta2: 0.98, eps: 1e-9, weightDecay: 0.05 };
    const adams = [new AdamW(offset, ranges, cfg, native), new AdamW(offset, ranges, cfg, twin)];
    const params = Float32Array.from({ length: offset }, () => rng.normal());
    const initial = params.slice();
    const copies = [params, params.slice()];
    for (let step = 0; step < 6; step++) {
      const grads = Float32Array.from({ length: offset }, (_, i) => (i % 11 === 0 ? 0 : rng.normal() * 10 ** (rng.int(5) - 3)));
      const lr = 1e-3 * (step + 1);
      adams.forEach((adam, k) => adam.update(copies[k], grads, lr));
      const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      assert.ok(bits(copies[0]).equals(bits(copies[1])), `params differ after step ${step + 1}`);
      assert.ok(bits(adams[0].m).equals(bits(adams[1].m)), `m differs after step ${step + 1}`);
      assert.ok(bits(adams[0].v).equals(bits(adams[1].v)), `v differs after step ${step + 1}`);
    }
    assert.notDeepEqual(copies[0], initial, 'the parameters moved');
  });
}

test('clipGradNorm scales to the maximum norm and leaves small gradients alone', () => {
  const g = Float32Array.from([3, 4]);
  assert.equal(clipGradNorm(g, 10), 5);
  assert.deepEqual(Array.from(g), [3, 4]);
  assert.equal(clipGradNorm(g, 1), 5);
  assert.ok(Math.abs(Math.hypot(g[0], g[1]) - 1) < 1e-6);
});

test('warm-up is linear, then cosine decays to zero at the planned end', () => {
  assert.ok(Math.abs(warmupCosine(0, 1, 10, 110) - 0.1) < 1e-12);
  assert.ok(Math.abs(warmupCosine(9, 1, 10, 110) - 1) < 1e-12);
  assert.ok(Math.abs(warmupCosine(10, 1, 10, 110) - 1) < 1e-12);
  assert.ok(Math.abs(warmupCosine(60, 1, 10, 110) - 0.5) < 1e-12);
  assert.equal(warmupCosine(110, 1, 10, 110), 0);
  assert.equal(warmupCosine(500, 1, 10, 110), 0);
});
