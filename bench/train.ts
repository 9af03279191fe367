/**
 * `npm run bench -- train`: training throughput on Beauty (or a synthetic
 * catalogue) for the project and the PyTorch baseline, the arithmetic floor,
 * peak memory, and where the project's step spends its time.
 *
 * One child process per measurement (peak RSS is per process). A project step
 * is exactly the trainer's (src/train/trainer.ts): zeroGrads, lossAndGradients
 * with dropout, clipGradNorm, AdamW.update at the warm-up + cosine rate.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { trainingBatches } from '../src/data/batches';
import { getKernels } from '../src/kernels';
import type { ModelConfig } from '../src/model/config';
import { FmrlRec } from '../src/model/fmrlrec';
import { batchRows } from '../src/model/sampled-softmax';
import { AdamW, clipGradNorm } from '../src/train/adamw';
import { NegativeSampler } from '../src/train/negative-sampler';
import { warmupCosine } from '../src/train/schedule';
import { REFERENCE_TRAIN_CONFIG } from '../src/train/trainer';
import { deriveSeed, Rng } from '../src/util/rng';
import { writeSafetensors } from '../src/util/safetensors-file';
import { BenchConfig, TRAIN_CONFIGS } from './configs';
import { beautyDir, BenchData, loadBenchData, paddedBatch, randomFeatures } from './data';
import { measurePeak, measurePeakWithThreads, trainStepFlops } from './floor';
import { machineInfo, peakRssMb, quietCheck, stabilityNote } from './machine';
import { BenchArgs, flagBool, flagNumber, flagString } from './options';
import { duration, fmt, log, median, table } from './output';
import { RESULTS_DIR } from './paths';
import { baselineBlasVerdict, BlasVerdict, findTorch, runTorch, TorchInfo, torchMissingNote } from './torch';
import { runWorker } from './worker';
import { breakdown, BreakdownRow, instrumentLayers, layerShares, Profiler, profiledKernels } from './profile';

/** What the parent asks a training worker to do. */
export interface TrainSpec {
  config: BenchConfig;
  dataDir: string;
  warmup: number;
  steps: number;
  profileSteps: number;
  seed: number;
  threads: number;
  measurePeak: boolean;
  /** Train with sampled softmax over this many negatives per batch (docs/method.md §5.8); absent: full softmax. */
  negatives?: number;
}

/** What a training worker reports. */
export interface TrainWorkerResult {
  name: string;
  kernels: string;
  threads: number;
  data: string;
  numItems: number;
  params: number;
  stepSeconds: number[];
  /** CPU seconds (user + system, all threads) per timed step: less sensitive to other load than wall time. */
  stepCpuSeconds: number[];
  /** Minor page faults per timed step (fresh allocations touched for the first time). */
  stepPageFaults: number[];
  stepPositions: number[];
  stepsPerEpoch: number;
  epochPositions: number;
  epochFlops: number;
  epochFlopsParts: { projection: number; scoring: number; blocks: number };
  peakRssMb: number;
  peakGflops: number | null;
  setupSeconds: number;
  losses: number[];
  breakdown: BreakdownRow[];
  layers: Record<string, number>;
  outsideModel: Record<string, number>;
  profiledStepMs: number;
  instrumented: boolean;
}

/** The model configuration of a benchmark configuration for a catalogue of `numItems`. */
export function modelConfig(c: BenchConfig, numItems: number): ModelConfig {
  return {
    dims: c.dims,
    numItems,
    featureDim: c.featureDim,
    itemIdEmbedding: c.itemIds,
    numBlocks: c.numBlocks,
    dropout: c.dropout,
    layerNormEps: 1e-5,
    rMin: 0,
    rMax: 0.1,
  };
}

/** The epoch's batches exactly as the trainer draws them for epoch 1. */
export function epochBatches(data: BenchData, c: BenchConfig, seed: number) {
  return trainingBatches(data.split, { batchSize: c.batch, maxLen: c.maxLen, rng: new Rng(deriveSeed(seed, 1, 1)) });
}

/** Worker: time `steps` training steps after `warmup` untimed ones, then profile a few. */
export function trainWorker(spec: TrainSpec): TrainWorkerResult {
  const t0 = performance.now();
  const inner = getKernels();
  if (spec.threads > 0) inner.setThreads(spec.threads);
  const prof = new Profiler();
  const kern = profiledKernels(inner, prof);
  const instrumented = instrumentLayers(prof);
  const c = spec.config;
  const data = loadBenchData(c, spec.dataDir);
  const n1 = data.numItems + 1;
  const features = c.featureDim > 0 ? randomFeatures(n1, c.featureBlocks, spec.seed) : null;
  const model = new FmrlRec(modelConfig(c, data.numItems), features, kern);
  model.init(spec.seed);
  wrapModelMethods(prof);
  const batches = epochBatches(data, c, spec.seed);
  const tc = REFERENCE_TRAIN_CONFIG;
  const optimizer = new AdamW(
    model.params.length,
    model.params.specs,
    { beta1: tc.beta1, beta2: tc.beta2, eps: tc.adamEps, weightDecay: tc.weightDecay },
    model.kern,
  );
  const totalSteps = 500 * batches.length;
  const dropoutRng = new Rng(deriveSeed(spec.seed, 1, 2));
  const negatives = spec.negatives ?? 0;
  const sampler = negatives > 0 ? NegativeSampler.fromTraining(data.split.train, data.numItems, c.maxLen) : null;
  const negativeRng = new Rng(deriveSeed(spec.seed, 1, 3));
  let step = 0;
  const losses: number[] = [];
  const runStep = (b: number) => {
    const batch = batches[b % batches.length];
    const draw = sampler ? sampler.draw(negatives, negativeRng) : null;
    prof.time('trainer: params.zeroGrads', () => model.params.zeroGrads());
    const r = prof.time('model: lossAndGradients', () => model.lossAndGradients(batch, dropoutRng, { negatives: draw }));
    prof.time('trainer: clipGradNorm', () => clipGradNorm(model.params.grads, tc.clipNorm));
    prof.time('trainer: AdamW.update', () => optimizer.update(model.params.values, model.params.grads, warmupCosine(step, tc.lr, tc.warmupSteps, totalSteps)));
    step++;
    losses.push(r.loss);
    return batch.offsets[batch.size];
  };
  const setupSeconds = (performance.now() - t0) / 1000;
  let b = 0;
  for (let i = 0; i < spec.warmup; i++) runStep(b++);
  const stepSeconds: number[] = [];
  const stepCpuSeconds: number[] = [];
  const stepPageFaults: number[] = [];
  const stepPositions: number[] = [];
  for (let i = 0; i < spec.steps; i++) {
    const u0 = process.resourceUsage();
    const s0 = performance.now();
    const positions = runStep(b++);
    stepSeconds.push((performance.now() - s0) / 1000);
    const u1 = process.resourceUsage();
    stepCpuSeconds.push((u1.userCPUTime + u1.systemCPUTime - u0.userCPUTime - u0.systemCPUTime) / 1e6);
    stepPageFaults.push(u1.minorPageFault - u0.minorPageFault);
    stepPositions.push(positions);
    if (i % 10 === 9 || i === spec.steps - 1) log(`  ${c.name}: step ${i + 1}/${spec.steps}, ${(mean(stepSeconds) * 1000).toFixed(0)} ms/step`);
  }
  // Profiled steps: the same batches as the first timed ones (comparable shares).
  let profiledMs = 0;
  prof.enabled = true;
  b = spec.warmup;
  for (let i = 0; i < spec.profileSteps; i++) {
    const s0 = performance.now();
    runStep(b++);
    profiledMs += performance.now() - s0;
  }
  prof.enabled = false;
  const p = Math.max(1, spec.profileSteps);
  const stepMs = profiledMs / p;
  let epochPositions = 0;
  let epochFlops = 0;
  const parts = { projection: 0, scoring: 0, blocks: 0 };
  for (const batch of batches) {
    const t = batch.offsets[batch.size];
    let a = 0;
    for (let r = 0; r < t; r++) if (batch.targets[r] > 0) a++;
    // Sampled softmax: the item-table rows of the batch and one draw of negatives (the timed steps draw alike).
    const sampled = sampler ? { rows: batchRows(batch, sampler.draw(negatives, negativeRng)).items.length, negatives } : undefined;
    const f = trainStepFlops(c, n1, t, a, sampled);
    epochPositions += t;
    epochFlops += f.total;
    parts.projection += f.projection;
    parts.scoring += f.scoring;
    parts.blocks += f.blocks;
  }
  const outsideModel: Record<string, number> = {};
  for (const k of ['trainer: params.zeroGrads', 'trainer: clipGradNorm', 'trainer: AdamW.update']) outsideModel[k] = (prof.stats.get(k)?.incl ?? 0) / p;
  return {
    name: c.name,
    kernels: inner.name,
    threads: inner.threads(),
    data: data.label,
    numItems: data.numItems,
    params: model.params.length,
    stepSeconds,
    stepCpuSeconds,
    stepPageFaults,
    stepPositions,
    stepsPerEpoch: batches.length,
    epochPositions,
    epochFlops,
    epochFlopsParts: parts,
    peakRssMb: peakRssMb(),
    peakGflops: spec.measurePeak ? measurePeak(inner) : null,
    setupSeconds,
    losses,
    breakdown: spec.profileSteps > 0 ? breakdown(prof, p, stepMs) : [],
    layers: layerShares(prof, p),
    outsideModel,
    profiledStepMs: stepMs,
    instrumented,
  };
}

let modelWrapped = false;

/** Split the model's own glue (fmrlrec.ts) by method: item table, blocks forward and backward. */
function wrapModelMethods(prof: Profiler): void {
  if (modelWrapped) return;
  modelWrapped = true;
  const proto = FmrlRec.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['itemTable', 'forwardBlocks', 'backwardBlocks']) {
    const fn = proto[name];
    if (typeof fn !== 'function') continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      return prof.time(`model: ${name}`, () => fn.apply(this, args));
    };
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

// ---------------------------------------------------------------------------
// The parent: run the workers and the baseline, print and save.

/** What a PyTorch baseline run reports. */
export interface BaselineResult {
  stepSeconds: number[];
  /** CPU seconds (all threads) per step. */
  stepCpuSeconds: number[];
  peakRssMb: number;
  losses: number[];
}

/** Write the first `count` batches in the reference's left-padded layout for the PyTorch mirror. */
export function writeTorchBatches(file: string, data: BenchData, c: BenchConfig, seed: number, count: number): void {
  const batches = epochBatches(data, c, seed);
  const n = Math.min(count, batches.length);
  const tokens = new Int32Array(n * c.batch * c.maxLen);
  const labels = new Int32Array(n * c.batch * c.maxLen);
  for (let s = 0; s < n; s++) paddedBatch(batches[s], c.maxLen, tokens, labels, s * c.batch * c.maxLen);
  // A last batch smaller than `batch` keeps its empty rows (all labels 0): only the first `count` batches are used.
  writeSafetensors(
    file,
    {
      tokens: { data: tokens, shape: [n, c.batch, c.maxLen] },
      labels: { data: labels, shape: [n, c.batch, c.maxLen] },
    },
    { num_items: String(data.numItems), steps_per_epoch: String(batches.length) },
  );
}

/** The PyTorch mirror's model flags for a configuration. */
export function torchArgs(c: BenchConfig): string[] {
  return [
    '--dims',
    c.dims.join(','),
    '--feature-blocks',
    c.featureBlocks.join(','),
    '--num-blocks',
    String(c.numBlocks),
    '--dropout',
    String(c.dropout),
    ...(c.itemIds ? ['--item-ids'] : []),
  ];
}

/** Run the PyTorch mirror's training steps on the same batches. */
export function runBaselineTrain(
  torch: TorchInfo,
  c: BenchConfig,
  data: BenchData,
  seed: number,
  warmup: number,
  steps: number,
  threads: number,
): BaselineResult {
  const file = path.join(os.tmpdir(), `fmrlrec-bench-batches-${process.pid}.safetensors`);
  writeTorchBatches(file, data, c, seed, warmup + steps);
  try {
    const r = runTorch<{ step_seconds: number[]; step_cpu_seconds: number[]; peak_rss_mb: number; losses: number[] }>(torch, [
      'train',
      '--batches',
      file,
      ...torchArgs(c),
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--threads',
      String(threads),
      '--seed',
      String(seed),
    ]);
    return { stepSeconds: r.step_seconds, stepCpuSeconds: r.step_cpu_seconds, peakRssMb: r.peak_rss_mb, losses: r.losses };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** One configuration's results: project, baseline, their ratios and the floor. */
export interface ConfigSummary {
  name: string;
  title: string;
  dims: number[];
  batch: number;
  project: TrainWorkerResult[];
  baseline: BaselineResult[];
  projectSPerStep: number;
  projectSPerEpoch: number;
  positionsPerSecond: number;
  projectPeakRssMb: number;
  baselineSPerStep: number | null;
  baselineSPerEpoch: number | null;
  baselinePeakRssMb: number | null;
  ratio: number | null;
  memoryRatio: number | null;
  floorSPerEpoch: number;
  quietBefore: boolean;
  quietAfter: boolean;
}

/** Median over repeats of (mean step time × steps per epoch); the speed-up only when the baseline's BLAS is fit to compare with. */
function summarise(
  c: BenchConfig,
  project: TrainWorkerResult[],
  baseline: BaselineResult[],
  peak: number,
  quietBefore: boolean,
  quietAfter: boolean,
  blasFit: boolean,
): ConfigSummary {
  const first = project[0];
  const sPerStep = median(project.map((r) => mean(r.stepSeconds)));
  const posPerS = median(project.map((r) => r.stepPositions.reduce((a, b) => a + b, 0) / r.stepSeconds.reduce((a, b) => a + b, 0)));
  const bStep = baseline.length ? median(baseline.map((r) => mean(r.stepSeconds))) : null;
  const bRss = baseline.length ? median(baseline.map((r) => r.peakRssMb)) : null;
  const pRss = median(project.map((r) => r.peakRssMb));
  const sEpoch = sPerStep * first.stepsPerEpoch;
  const bEpoch = bStep === null ? null : bStep * first.stepsPerEpoch;
  return {
    name: c.name,
    title: c.title,
    dims: c.dims,
    batch: c.batch,
    project,
    baseline,
    projectSPerStep: sPerStep,
    projectSPerEpoch: sEpoch,
    positionsPerSecond: posPerS,
    projectPeakRssMb: pRss,
    baselineSPerStep: bStep,
    baselineSPerEpoch: bEpoch,
    baselinePeakRssMb: bRss,
    ratio: bEpoch === null || !blasFit ? null : bEpoch / sEpoch,
    memoryRatio: bRss === null ? null : bRss / pRss,
    floorSPerEpoch: first.epochFlops / (peak * 1e9),
    quietBefore,
    quietAfter,
  };
}

/** Print where a project step spends its time (kernels, glue, layers). */
export function printBreakdown(r: TrainWorkerResult): void {
  const stepMs = r.profiledStepMs;
  console.log(`\nWhere a ${r.name} step goes (${fmt(stepMs, 0)} ms/step over the profiled steps; exclusive times; kernels ${r.kernels} × ${r.threads}):`);
  const kernelMs = r.breakdown.filter((x) => x.kind === 'kernel').reduce((a, x) => a + x.msPerStep, 0);
  console.log(
    `  native kernels ${fmt(kernelMs, 1)} ms (${fmt((100 * kernelMs) / stepMs, 0)}%), TypeScript glue ${fmt(stepMs - kernelMs, 1)} ms (${fmt((100 * (stepMs - kernelMs)) / stepMs, 0)}%)`,
  );
  console.log(
    table(
      ['what', 'kind', 'ms/step', 'share', 'calls/step'],
      r.breakdown.filter((x) => x.msPerStep >= 0.05).map((x) => [x.what, x.kind, fmt(x.msPerStep, 2), `${fmt(100 * x.share, 1)}%`, fmt(x.calls, 0)]),
    ),
  );
  console.log(
    `\nBy layer (inclusive, ms/step): ${Object.entries(r.layers)
      .map(([k, v]) => `${k} ${fmt(v, 1)} (${fmt((100 * v) / stepMs, 0)}%)`)
      .join('; ')}`,
  );
  console.log(
    `Outside the model (ms/step): ${Object.entries(r.outsideModel)
      .map(([k, v]) => `${k.replace('trainer: ', '')} ${fmt(v, 1)}`)
      .join('; ')}`,
  );
}

/** `npm run bench -- train`: training throughput, memory, floor and breakdown against the PyTorch baseline. */
export function trainCommand(args: BenchArgs): ConfigSummary[] {
  const names = flagString(args, 'configs', flagString(args, 'config', 'paper,d256,default')).split(',');
  const steps = flagNumber(args, 'steps', 50);
  const warmup = flagNumber(args, 'warmup', 2);
  const baselineSteps = flagNumber(args, 'baseline-steps', 10);
  const repeats = flagNumber(args, 'repeats', 1);
  const baselineRepeats = flagNumber(args, 'baseline-repeats', 1);
  const profileSteps = flagNumber(args, 'profile-steps', Math.min(10, steps));
  const threads = flagNumber(args, 'threads', 0);
  const seed = flagNumber(args, 'seed', 42);
  const dataDir = beautyDir(args);
  const configs = names.map((n) => {
    const c = TRAIN_CONFIGS[n];
    if (!c) throw new Error(`unknown configuration ${n} (have ${Object.keys(TRAIN_CONFIGS).join(', ')})`);
    return c;
  });
  const kern = getKernels();
  const machine = machineInfo(kern);
  console.log(`# fmrlrec training benchmark\n\nmachine: ${machine.description}`);
  const torch = flagBool(args, 'no-baseline') ? null : findTorch(args, threads || 2);
  if (torch)
    console.log(`baseline: PyTorch ${torch.version} (${torch.python}, BLAS ${torch.blas}, sgemm ${fmt(torch.peak, 0)} GFLOP/s at ${threads || 2} threads)`);
  else console.log(flagBool(args, 'no-baseline') ? 'baseline: skipped (--no-baseline)' : torchMissingNote());
  const blas = torch ? baselineBlasVerdict(torch, measurePeakWithThreads(kern, threads || 2), threads || 2) : null;
  if (blas) console.log(blas.line);
  const peakOurs = measurePeak(kern);
  const peak = Math.max(peakOurs, torch?.peak ?? 0);
  console.log(
    `measured peak (2048³ sgemm): project ${fmt(peakOurs, 0)} GFLOP/s${torch ? `, PyTorch ${fmt(torch.peak, 0)} GFLOP/s` : ''}; floor uses ${fmt(peak, 0)} GFLOP/s`,
  );
  console.log(
    `project: ${steps} timed steps after ${warmup} warm-up, ${repeats} run(s); baseline: ${baselineSteps} timed steps after ${warmup} warm-up, ${baselineRepeats} run(s)\n`,
  );

  const summaries: ConfigSummary[] = [];
  for (const c of configs) {
    log(`== ${c.title}`);
    const quietBefore = quietCheck(`before ${c.name}`);
    const project: TrainWorkerResult[] = [];
    for (let r = 0; r < repeats; r++) {
      project.push(
        runWorker<TrainWorkerResult>('train', { config: c, dataDir, warmup, steps, profileSteps, seed, threads, measurePeak: false } satisfies TrainSpec),
      );
    }
    const baseline: BaselineResult[] = [];
    if (torch) {
      const data = loadBenchData(c, dataDir);
      for (let r = 0; r < baselineRepeats; r++) {
        log(`  baseline ${c.name}: run ${r + 1}/${baselineRepeats}`);
        baseline.push(runBaselineTrain(torch, c, data, seed, warmup, baselineSteps, threads || 2));
      }
    }
    const quietAfter = quietCheck(`after ${c.name}`);
    summaries.push(summarise(c, project, baseline, peak, quietBefore, quietAfter, blas?.fit ?? false));
  }

  console.log('## Training throughput\n');
  console.log(
    table(
      [
        'configuration',
        'project s/step',
        'positions/s',
        'project s/epoch',
        'project peak RSS MB',
        'baseline s/step',
        'baseline s/epoch',
        'baseline peak RSS MB',
        'speed-up',
        'memory ÷',
        'floor s/epoch',
        'project ÷ floor',
      ],
      summaries.map((s) => [
        s.title,
        fmt(s.projectSPerStep, 3),
        fmt(s.positionsPerSecond, 0),
        duration(s.projectSPerEpoch),
        fmt(s.projectPeakRssMb, 0),
        fmt(s.baselineSPerStep, 2),
        duration(s.baselineSPerEpoch),
        fmt(s.baselinePeakRssMb, 0),
        s.ratio === null ? '–' : `${fmt(s.ratio, 1)}×`,
        s.memoryRatio === null ? '–' : `${fmt(s.memoryRatio, 1)}×`,
        duration(s.floorSPerEpoch),
        `${fmt(s.projectSPerEpoch / s.floorSPerEpoch, 2)}×`,
      ]),
    ),
  );
  for (const s of summaries) {
    const r = s.project[0];
    const parts = r.epochFlopsParts;
    console.log(
      `\n${s.name}: ${r.data}; ${r.stepsPerEpoch} steps/epoch, ${r.epochPositions} positions/epoch; ${(r.params / 1e6).toFixed(2)}M parameters; ` +
        `floor ${(r.epochFlops / 1e12).toFixed(1)} TFLOP/epoch (projection ${(parts.projection / 1e12).toFixed(1)}, scoring ${(parts.scoring / 1e12).toFixed(1)}, blocks ${(parts.blocks / 1e12).toFixed(1)}); ` +
        `quiet before/after: ${s.quietBefore ? 'yes' : 'NO'}/${s.quietAfter ? 'yes' : 'NO'}`,
    );
    console.log(
      `  per step: ${fmt(mean(r.stepCpuSeconds), 2)} CPU s (user + system, all threads) for ${fmt(s.projectSPerStep, 2)} s wall; ` +
        `${fmt(mean(r.stepPageFaults), 0)} minor page faults (${fmt((mean(r.stepPageFaults) * 4) / 1024, 0)} MB of fresh pages)`,
    );
    if (s.baseline.length) {
      const pc = median(s.project.map((x) => mean(x.stepCpuSeconds)));
      const bc = median(s.baseline.map((x) => mean(x.stepCpuSeconds)));
      console.log(
        `  CPU seconds per step: project ${fmt(pc, 2)}, baseline ${fmt(bc, 2)} — CPU-time ratio ${fmt(bc / pc, 1)}× ` +
          '(robust to cores taken by the host, which /proc does not show; wall time is what counts)',
      );
    }
    if (s.ratio !== null) console.log(`  targets: speed-up ${fmt(s.ratio, 1)}× (paper ≥ 6×, d256 ≥ 8×), memory ${fmt(s.memoryRatio, 1)}× smaller (paper ≥ 3×)`);
    if (r.breakdown.length) printBreakdown(r);
  }
  const stability = stabilityNote();
  console.log(`\n${stability.line}`);
  if (!stability.steady) for (const s of summaries) s.quietAfter = false;
  if (blas && !blas.fit) console.log(`\n${blas.line}`);
  if (flagBool(args, 'json')) writeTrainJson(machine.description, summaries, torch, peak, blas);
  return summaries;
}

function writeTrainJson(machine: string, summaries: ConfigSummary[], torch: TorchInfo | null, peak: number, blas: BlasVerdict | null): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, 'train.json');
  // Configurations not run this time keep their previous entries (so the slow ones can be run separately).
  let previous: { name: string }[] = [];
  try {
    const old = JSON.parse(fs.readFileSync(file, 'utf8')) as { machine: string; configs: { name: string }[] };
    if (old.machine === machine) previous = old.configs.filter((c) => !summaries.some((s) => s.name === c.name));
  } catch {
    // no previous file
  }
  const out = {
    machine,
    configs: [
      ...previous,
      ...summaries.map((s) => ({
        name: s.name,
        dims: s.dims,
        batch: s.batch,
        project_s_per_epoch: s.projectSPerEpoch,
        baseline_s_per_epoch: s.baselineSPerEpoch,
        ratio: s.ratio,
        project_peak_rss_mb: s.projectPeakRssMb,
        baseline_peak_rss_mb: s.baselinePeakRssMb,
        floor_s_per_epoch: s.floorSPerEpoch,
        // Extra detail (readers of the fields above can ignore these).
        project_s_per_step: s.projectSPerStep,
        baseline_s_per_step: s.baselineSPerStep,
        positions_per_s: s.positionsPerSecond,
        steps_per_epoch: s.project[0].stepsPerEpoch,
        quiet: s.quietBefore && s.quietAfter,
        date: new Date().toISOString(),
      })),
    ],
    baseline: torch ? `PyTorch ${torch.version}, BLAS ${torch.blas}` : null,
    // Set when the ratios are withheld because the baseline's BLAS is too slow to compare with.
    speed_up_withheld: blas && !blas.fit ? blas.line : null,
    peak_gflops: peak,
    date: new Date().toISOString(),
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
}
