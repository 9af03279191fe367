/**
 * `npm run bench -- scaling`: how a training epoch grows with the catalogue
 * (10k, 100k, 1M items) and the sequence length (50, 200, 1000) at D = 256,
 * on synthetic data (22,363 users — Beauty's count — each with a training
 * sequence of exactly L items, so every step has batch × L rows), with
 * peak memory against what materialised logits would need.
 */
import { getKernels } from '../src/kernels';
import { doublingLadder } from '../src/model/config';
import { BenchConfig } from './configs';
import { mrlWeights } from './floor';
import { machineInfo, quietCheck, stabilityNote } from './machine';
import { BenchArgs, flagBool, flagNumber } from './options';
import { duration, fmt, log, table } from './output';
import { runWorker } from './worker';
import type { TrainSpec, TrainWorkerResult } from './train';

const USERS = 22363;

function scalingConfig(items: number, length: number, batch: number, featureDim: number): BenchConfig {
  return {
    name: `N=${items} L=${length}`, title: `synthetic N=${items}, L=${length}`, dims: doublingLadder(256), batch, maxLen: length,
    featureDim, featureBlocks: [featureDim], itemIds: false, dropout: 0.3, numBlocks: 1,
    data: { kind: 'synthetic', users: USERS, items, length },
  };
}

/** `npm run bench -- scaling`: catalogue size and sequence length against step time and memory at D = 256. */
export function scalingCommand(args: BenchArgs): void {
  const steps = flagNumber(args, 'scaling-steps', 5);
  const warmup = flagNumber(args, 'scaling-warmup', 1);
  const batch = flagNumber(args, 'batch', 32);
  const featureDim = flagNumber(args, 'feature-dim', 512);
  const threads = flagNumber(args, 'threads', 0);
  const items = [10_000, 100_000, 1_000_000];
  const lengths = [50, 200, 1000];
  const pairs: [number, number][] = flagBool(args, 'grid')
    ? items.flatMap((n) => lengths.map((l): [number, number] => [n, l]))
    : [...items.map((n): [number, number] => [n, 50]), ...lengths.slice(1).map((l): [number, number] => [10_000, l])];
  const kern = getKernels();
  console.log(`# fmrlrec scaling benchmark\n\nmachine: ${machineInfo(kern).description}`);
  console.log(`D = 256 (8..256), batch ${batch}, ${featureDim}-d random features, no item IDs, ${USERS} users with training sequences of exactly L items; ` +
    `${steps} timed steps after ${warmup} warm-up per point.\n`);
  const rows: (string | number)[][] = [];
  const d = 256;
  const k = doublingLadder(256).length;
  for (const [n, l] of pairs) {
    const c = scalingConfig(n, l, batch, featureDim);
    log(`== ${c.title}`);
    const quietBefore = quietCheck(`before ${c.name}`);
    const r = runWorker<TrainWorkerResult>('train', { config: c, dataDir: '', warmup, steps, profileSteps: 0, seed: 42, threads, measurePeak: false } satisfies TrainSpec);
    const quietAfter = quietCheck(`after ${c.name}`);
    const sPerStep = r.stepSeconds.reduce((a, b) => a + b, 0) / r.stepSeconds.length;
    const t = batch * l;
    const n1 = n + 1;
    // Memory that grows with the catalogue whatever the method: features, item table and its gradient.
    const catalogueMb = (n1 * (featureDim + 2 * d) * 4) / 2 ** 20;
    // Memory that grows with the positions: ~40 T×D activations and gradients kept for the backward pass.
    const positionsMb = (40 * t * d * 4) / 2 ** 20;
    const logitsMb = (t * n1 * k * 4) / 2 ** 20;
    rows.push([`${n.toLocaleString('en-US')} items, L ${l}`, t, fmt(sPerStep, 2), duration(sPerStep * r.stepsPerEpoch), fmt(r.peakRssMb, 0),
      fmt(catalogueMb + positionsMb, 0), fmt(logitsMb, 0), quietBefore && quietAfter ? 'yes' : 'NO']);
  }
  console.log(`${stabilityNote().line}\n`);
  console.log(table(['point', 'rows/step (T)', 's/step', 's/epoch', 'peak RSS MB', 'catalogue + activations MB', 'materialised logits MB (T × N1 × K × 4)', 'quiet'], rows));
  console.log(`\nCost per step ≈ projection 4·N1·F·D + scoring 6·T·N1·D + blocks 42·T·W (W = ${mrlWeights(doublingLadder(256))} weights per MRL map at D = 256): ` +
    'linear in N1 and in T; per epoch, T·steps = users × L, so epoch time grows linearly with L and with N1. ' +
    'Memory: N1·(F + 2D) floats for the catalogue plus O(T·D) activations; the scoring holds T × item-chunk × K floats, never T × N1.');
}
