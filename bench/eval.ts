/**
 * `npm run bench -- eval`: full-ranking evaluation of every size over all
 * Beauty test users at the paper's configuration (the project's evaluate(),
 * src/eval/evaluate.ts), against the baseline's validation pass (every size's
 * logits at every padded position, the last position of the largest size
 * ranked by argsort), timed over a few batches of 64 and extrapolated.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { evalBatches } from '../src/data/batches';
import type { Split } from '../src/data/types';
import { evaluate } from '../src/eval/evaluate';
import { getKernels } from '../src/kernels';
import { FmrlRec } from '../src/model/fmrlrec';
import { REFERENCE_TRAIN_CONFIG } from '../src/train/trainer';
import { writeSafetensors } from '../src/util/safetensors-file';
import { TRAIN_CONFIGS } from './configs';
import { beautyDir, loadBenchData, paddedBatch, randomFeatures } from './data';
import { evalFlops, measurePeak, measurePeakWithThreads } from './floor';
import { machineInfo, peakRssMb, quietCheck, stabilityNote } from './machine';
import { BenchArgs, flagBool, flagNumber, flagString } from './options';
import { duration, fmt, log, table } from './output';
import { baselineBlasVerdict, findTorch, runTorch, torchMissingNote } from './torch';
import { runWorker } from './worker';
import { modelConfig, torchArgs } from './train';

/** What the parent asks an evaluation worker to do. */
export interface EvalSpec {
  config: string;
  dataDir: string;
  batchSize: number;
  seed: number;
  threads: number;
}

/** What an evaluation worker reports. */
export interface EvalWorkerResult {
  users: number;
  positions: number;
  seconds: number;
  itemTableSeconds: number;
  peakRssMb: number;
  flops: number;
  ndcg10: Record<string, number>;
  kernels: string;
}

function firstUsers(split: Split, n: number): Split {
  return { train: split.train.slice(0, n), validTarget: split.validTarget.subarray(0, n), testTarget: split.testTarget.subarray(0, n) };
}

/** Worker: build the configuration's model and evaluate every size, timed. */
export function evalWorker(spec: EvalSpec): EvalWorkerResult {
  const kern = getKernels();
  if (spec.threads > 0) kern.setThreads(spec.threads);
  const c = TRAIN_CONFIGS[spec.config];
  const data = loadBenchData(c, spec.dataDir);
  const n1 = data.numItems + 1;
  const features = randomFeatures(n1, c.featureBlocks, spec.seed);
  const model = new FmrlRec(modelConfig(c, data.numItems), features, kern);
  model.init(spec.seed);
  const options = { batchSize: spec.batchSize, maxLen: c.maxLen, excludeHistory: false, progress: false };
  evaluate(model, firstUsers(data.split, Math.min(512, data.users)), 'test', options); // warm-up
  const t1 = performance.now();
  model.itemTable();
  const itemTableSeconds = (performance.now() - t1) / 1000;
  const t0 = performance.now();
  const metrics = evaluate(model, data.split, 'test', options);
  const seconds = (performance.now() - t0) / 1000;
  let positions = 0;
  for (let u = 0; u < data.users; u++) positions += Math.min(data.split.train[u].length + 1, c.maxLen);
  const ndcg10: Record<string, number> = {};
  for (const [m, v] of Object.entries(metrics)) ndcg10[m] = v['NDCG@10'];
  return {
    users: data.users,
    positions,
    seconds,
    itemTableSeconds,
    peakRssMb: peakRssMb(),
    flops: evalFlops(c, n1, positions, data.users),
    ndcg10,
    kernels: `${kern.name} × ${kern.threads()}`,
  };
}

/** `npm run bench -- eval`: full-ranking evaluation against the baseline's validation pass and the floor. */
export function evalCommand(args: BenchArgs): void {
  const name = flagString(args, 'config', 'paper');
  const c = TRAIN_CONFIGS[name];
  const seed = flagNumber(args, 'seed', 42);
  const threads = flagNumber(args, 'threads', 0);
  const batchSize = flagNumber(args, 'eval-batch', REFERENCE_TRAIN_CONFIG.evalBatchSize);
  const baselineBatches = flagNumber(args, 'baseline-batches', 8);
  const dataDir = beautyDir(args);
  const kern = getKernels();
  console.log(`# fmrlrec evaluation benchmark\n\nmachine: ${machineInfo(kern).description}`);
  const torch = flagBool(args, 'no-baseline') ? null : findTorch(args, threads || 2);
  if (!torch) console.log(flagBool(args, 'no-baseline') ? 'baseline: skipped' : torchMissingNote());
  const blas = torch ? baselineBlasVerdict(torch, measurePeakWithThreads(kern, threads || 2), threads || 2) : null;
  if (blas) console.log(blas.line);
  const peak = Math.max(measurePeak(kern), torch?.peak ?? 0);
  const quietBefore = quietCheck('before eval');
  const ours = runWorker<EvalWorkerResult>('eval', { config: name, dataDir, batchSize, seed, threads } satisfies EvalSpec);
  let baselineSeconds: number | null = null;
  let baselinePerBatch: number | null = null;
  let baselineRss: number | null = null;
  const baselineBatchSize = 64;
  if (torch) {
    const data = loadBenchData(c, dataDir);
    const batches = evalBatches(data.split, 'valid', { batchSize: baselineBatchSize, maxLen: c.maxLen }).slice(0, baselineBatches + 1);
    const tokens = new Int32Array(batches.length * baselineBatchSize * c.maxLen);
    const labels = new Int32Array(batches.length * baselineBatchSize);
    const rowLabels = new Int32Array(batches.length * baselineBatchSize * c.maxLen);
    batches.forEach((b, s) => {
      paddedBatch(b, c.maxLen, tokens, rowLabels, s * baselineBatchSize * c.maxLen);
      for (let i = 0; i < b.size; i++) labels[s * baselineBatchSize + i] = b.targets[b.offsets[i + 1] - 1];
    });
    const file = path.join(os.tmpdir(), `fmrlrec-bench-eval-${process.pid}.safetensors`);
    writeSafetensors(
      file,
      {
        tokens: { data: tokens, shape: [batches.length, baselineBatchSize, c.maxLen] },
        labels: { data: labels, shape: [batches.length, baselineBatchSize] },
      },
      { num_items: String(data.numItems) },
    );
    try {
      log(`  baseline validation pass: ${baselineBatches} batches of ${baselineBatchSize} after 1 warm-up`);
      const r = runTorch<{ batch_seconds: number[]; peak_rss_mb: number }>(torch, [
        'eval',
        '--batches',
        file,
        ...torchArgs(c),
        '--steps',
        String(baselineBatches),
        '--warmup',
        '1',
        '--threads',
        String(threads || 2),
      ]);
      baselinePerBatch = r.batch_seconds.reduce((a, b) => a + b, 0) / r.batch_seconds.length;
      baselineSeconds = baselinePerBatch * Math.ceil(data.users / baselineBatchSize);
      baselineRss = r.peak_rss_mb;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  const quietAfter = quietCheck('after eval');
  const floor = ours.flops / (peak * 1e9);
  console.log(`\n## Full-ranking evaluation, ${c.title}, ${ours.users} users, every size (${c.dims.length} sizes)\n`);
  console.log(
    table(
      ['', 'seconds', 'users/s', 'peak RSS MB', 'notes'],
      [
        [
          'project: evaluate(test), all sizes',
          fmt(ours.seconds, 1),
          fmt(ours.users / ours.seconds, 0),
          fmt(ours.peakRssMb, 0),
          `batch ${batchSize}, ${ours.positions} positions, kernels ${ours.kernels}; item table ${fmt(ours.itemTableSeconds, 2)} s`,
        ],
        [
          'baseline: validation pass (largest size ranked)',
          baselineSeconds === null ? '–' : `${fmt(baselineSeconds, 0)} (${duration(baselineSeconds)})`,
          baselineSeconds === null ? '–' : fmt(ours.users / baselineSeconds, 0),
          fmt(baselineRss, 0),
          baselinePerBatch === null
            ? ''
            : `${fmt(baselinePerBatch, 2)} s per batch of 64 × ${Math.ceil(ours.users / baselineBatchSize)} batches (timed ${baselineBatches})`,
        ],
        ['arithmetic floor', fmt(floor, 2), fmt(ours.users / floor, 0), '', `${(ours.flops / 1e12).toFixed(2)} TFLOP at ${fmt(peak, 0)} GFLOP/s`],
      ],
    ),
  );
  console.log(`\n${stabilityNote().line}`);
  if (baselineSeconds !== null && blas?.fit)
    console.log(`\nspeed-up: ${fmt(baselineSeconds / ours.seconds, 1)}× (target ≥ 30×); project ÷ floor ${fmt(ours.seconds / floor, 2)}×`);
  else if (baselineSeconds !== null && blas) console.log(`\n${blas.line}\nproject ÷ floor ${fmt(ours.seconds / floor, 2)}×`);
  console.log(
    `quiet before/after: ${quietBefore ? 'yes' : 'NO'}/${quietAfter ? 'yes' : 'NO'}; NDCG@10 of the untrained model (sanity): ${Object.entries(ours.ndcg10)
      .map(([m, v]) => `${m}: ${v.toFixed(4)}`)
      .join(', ')}`,
  );
}
