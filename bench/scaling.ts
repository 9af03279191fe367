/**
 * `npm run bench -- scaling`: how a training step grows with the catalogue
 * (10k, 100k, 1M items) and the sequence length (50, 200, 1000) at D = 256,
 * for full softmax and for sampled softmax (docs/method.md §5.8) in the same
 * run, on synthetic data (22,363 users — Beauty's count — each with a
 * training sequence of exactly L items, so every step has batch × L rows),
 * with where the step's time goes and peak memory against an estimate.
 */
import { getKernels } from '../src/kernels';
import { doublingLadder } from '../src/model/config';
import { DEFAULT_NEGATIVES } from '../src/run/defaults';
import { BenchConfig } from './configs';
import { mrlWeights } from './floor';
import { machineInfo, quietCheck, stabilityNote } from './machine';
import { BenchArgs, flagBool, flagNumber } from './options';
import { duration, fmt, log, table } from './output';
import { runWorker } from './worker';
import type { TrainSpec, TrainWorkerResult } from './train';

const USERS = 22363;
const WIDTH = 256;

function scalingConfig(items: number, length: number, batch: number, featureDim: number, itemIds: boolean): BenchConfig {
  return {
    name: `N=${items} L=${length}`,
    title: `synthetic N=${items}, L=${length}`,
    dims: doublingLadder(WIDTH),
    batch,
    maxLen: length,
    featureDim,
    featureBlocks: [featureDim],
    itemIds,
    dropout: 0.3,
    numBlocks: 1,
    data: { kind: 'synthetic', users: USERS, items, length },
  };
}

/**
 * `npm run bench -- scaling`: catalogue size and sequence length against step
 * time and memory at D = 256, full softmax and sampled softmax (--negatives K,
 * default DEFAULT_NEGATIVES) at every point; --item-ids adds the learned
 * N1 × D ID table (the part of the step that grows with N under sampled softmax).
 */
export function scalingCommand(args: BenchArgs): void {
  const steps = flagNumber(args, 'scaling-steps', 5);
  const warmup = flagNumber(args, 'scaling-warmup', 1);
  const batch = flagNumber(args, 'batch', 32);
  const featureDim = flagNumber(args, 'feature-dim', 512);
  const threads = flagNumber(args, 'threads', 0);
  const negatives = flagNumber(args, 'negatives', DEFAULT_NEGATIVES);
  const itemIds = flagBool(args, 'item-ids');
  const items = [10_000, 100_000, 1_000_000];
  const lengths = [50, 200, 1000];
  const pairs: [number, number][] = flagBool(args, 'grid')
    ? items.flatMap((n) => lengths.map((l): [number, number] => [n, l]))
    : [...items.map((n): [number, number] => [n, 50]), ...lengths.slice(1).map((l): [number, number] => [10_000, l])];
  const kern = getKernels();
  console.log(`# fmrlrec scaling benchmark\n\nmachine: ${machineInfo(kern).description}`);
  console.log(
    `D = ${WIDTH} (8..${WIDTH}), batch ${batch}, ${featureDim}-d random features, ${itemIds ? 'with' : 'no'} item IDs, ` +
      `${USERS} users with training sequences of exactly L items; full softmax and sampled softmax (K = ${negatives}) at every point; ` +
      `${steps} timed steps after ${warmup} warm-up per run, then 1 profiled step (the split of the step's time).\n`,
  );
  const rows: (string | number)[][] = [];
  const d = WIDTH;
  const sizes = doublingLadder(WIDTH).length;
  for (const [n, l] of pairs) {
    for (const sampled of [false, true]) {
      const c = scalingConfig(n, l, batch, featureDim, itemIds);
      const loss = sampled ? `sampled, K ${negatives}` : 'full softmax';
      log(`== ${c.title}, ${loss}`);
      const quietBefore = quietCheck(`before ${c.name} ${loss}`);
      const spec: TrainSpec = { config: c, dataDir: '', warmup, steps, profileSteps: 1, seed: 42, threads, measurePeak: false };
      if (sampled) spec.negatives = negatives;
      const r = runWorker<TrainWorkerResult>('train', spec);
      const quietAfter = quietCheck(`after ${c.name} ${loss}`);
      const sPerStep = r.stepSeconds.reduce((a, b) => a + b, 0) / r.stepSeconds.length;
      const t = batch * l;
      const n1 = n + 1;
      // Parameters that grow with N (the ID table): values, gradients and AdamW's two moments.
      const idTableMb = itemIds ? (4 * n1 * d * 4) / 2 ** 20 : 0;
      // Item table and its gradient: every item under full softmax, the rows read (inputs, targets, negatives) under sampled.
      const tableRows = sampled ? Math.min(n1, 2 * t + negatives) : n1;
      const catalogueMb = ((n1 * featureDim + tableRows * (sampled ? featureDim + 2 * d : 2 * d)) * 4) / 2 ** 20 + idTableMb;
      // ~40 T×D activations and gradients kept for the backward pass.
      const positionsMb = (40 * t * d * 4) / 2 ** 20;
      // Full softmax: the scores of every size if they were materialised (the kernel streams them);
      // sampled softmax: the T × K logits and their gradient it holds.
      const scoresMb = (t * (sampled ? 2 * negatives : n1 * sizes) * 4) / 2 ** 20;
      const scoringMs = (r.layers['multi-size scoring + cross-entropy'] ?? 0) + (r.layers['sampled scoring + cross-entropy'] ?? 0);
      const loopsMs = r.breakdown.find((b) => b.what === 'glue: sampled-softmax.sampledSoftmax')?.msPerStep;
      const outsideMs = Object.values(r.outsideModel).reduce((a, b) => a + b, 0);
      rows.push([
        `${n.toLocaleString('en-US')} items, L ${l}`,
        loss,
        t,
        fmt(sPerStep, 2),
        duration(sPerStep * r.stepsPerEpoch),
        fmt((r.layers['item projection (fwd+bwd)'] ?? 0) / 1000, 2),
        fmt(scoringMs / 1000, 2),
        sampled ? fmt((loopsMs ?? 0) / 1000, 2) : '–',
        fmt(outsideMs / 1000, 2),
        fmt(r.profiledStepMs / 1000, 2),
        fmt(r.peakRssMb, 0),
        fmt(catalogueMb + positionsMb + (sampled ? scoresMb : 0), 0),
        fmt(scoresMb, 0),
        quietBefore && quietAfter ? 'yes' : 'NO',
      ]);
    }
  }
  console.log(`${stabilityNote().line}\n`);
  console.log(
    table(
      [
        'point',
        'loss',
        'rows/step (T)',
        's/step',
        's/epoch',
        'item table s',
        'scoring + loss s',
        'of which TS loops s',
        'zero grads + clip + AdamW s',
        'profiled step s',
        'peak RSS MB',
        'estimate MB',
        `scores MB (T × N1 × ${sizes} × 4 if materialised; sampled: T × K × 2 × 4 held)`,
        'quiet',
      ],
      rows,
    ),
  );
  console.log(
    '\nThe split (item table, scoring + loss, its TypeScript loops, and zeroing, clip and AdamW outside the model) is of the one ' +
      'profiled step, whose kernels are timed one by one (its total in "profiled step s").',
  );
  console.log(
    `\nFull softmax, cost per step ≈ projection 4·N1·F·D + scoring 6·T·N1·D + blocks 42·T·W (W = ${mrlWeights(doublingLadder(WIDTH))} ` +
      'weights per MRL map at D = 256): linear in N1 and in T; per epoch, T·steps = users × L, so epoch time grows linearly with L and with N1. ' +
      'Memory: N1·(F + 2D) floats for the catalogue plus O(T·D) activations; the scoring holds T × item-chunk × sizes floats, never T × N1.',
  );
  console.log(
    `\nSampled softmax (K negatives per batch), cost per step ≈ projection 4·R·F·D over the R ≤ min(N1, 2T + K) items the batch reads ` +
      '+ scoring 6·T·(K + 1)·D + the same blocks: no term in N1. What still grows with N1: the frozen features in memory (N1·F floats); ' +
      'with --item-ids, zeroing the gradients, the clip and AdamW pass over the N1 × D ID table and its moments every step. ' +
      'Memory: N1·F + R·(F + 2D) floats, T × K logits and their gradient, and the same activations.',
  );
}
