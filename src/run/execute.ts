/**
 * Whole jobs on a run folder: train (then test the best checkpoint and write
 * the reports) and evaluate a saved run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import { maxMetricDifference, MetricsReport, readMetricsReport, writeMetricsReport } from '../eval/report';
import type { Kernels } from '../kernels/types';
import type { FmrlRec } from '../model/fmrlrec';
import { loadParams } from '../train/checkpoint';
import { BEST_FILE, CHECKPOINT_FILE, trainModel } from '../train/trainer';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { prepareRun } from './prepare';
import { featureLabel, loadRunConfig, RunConfig, saveRunConfig } from './run-config';

export interface JobOptions {
  kern: Kernels;
  progress: boolean;
  log: (line: string) => void;
  /** The command line, recorded in the Markdown report. */
  command: string;
}

/**
 * Train a run from its recipe (or resume it), then evaluate the best checkpoint
 * on validation and test and write metrics.json / metrics.md.
 */
export async function trainRun(config: RunConfig, runDir: string, resume: boolean, options: JobOptions & { timeLimitSeconds?: number }): Promise<MetricsReport> {
  const hasCheckpoint = fs.existsSync(path.join(runDir, CHECKPOINT_FILE));
  if (hasCheckpoint && !resume) {
    throw new UserError(`${runDir} already holds a training run; continue it with --resume, or choose another --out`);
  }
  if (resume && hasCheckpoint) config = loadRunConfig(runDir);
  else saveRunConfig(runDir, config);
  const prepared = await prepareRun(config, options.kern, options.progress, runDir);
  const { model, split, dataset } = prepared;
  for (const note of prepared.notes) options.log(`${dataset.name}: ${note}`);
  options.log(`${dataset.name}: ${split.train.length} users, ${dataset.numItems} items; model D=${model.width}, sizes ${config.model.dims.join(',')}, ` +
    `features ${featureLabel(prepared.usedFeatures)}${attributeNote(config, model)}, ${config.model.numBlocks} block(s); kernels ${options.kern.name} x${options.kern.threads()}`);
  const { state, bestValid } = trainModel(model, split, config.train, {
    runDir, resume, progress: options.progress, log: options.log, timeLimitSeconds: options.timeLimitSeconds,
  });
  if (state.bestEpoch === 0 || !bestValid) throw new UserError('training finished without a completed epoch; nothing to evaluate');
  const test = evaluateModel(model, prepared.split, config, 'test', false, options.progress);
  const report: MetricsReport = {
    dataset: dataset.name, dims: config.model.dims, features: featureLabel(prepared.usedFeatures),
    best_epoch: state.bestEpoch, train_seconds: state.trainSeconds, valid: bestValid, test,
  };
  writeMetricsReport(runDir, report, options.command);
  return report;
}

/** " (N attribute values)" when attributes were asked for; says so when the data has none. */
function attributeNote(config: RunConfig, model: FmrlRec): string {
  if (!config.features.attributes && !config.features.titleWords) return '';
  return model.attributes ? ` (${model.attributes.dim} attribute values)` : ' (no attribute is shared by two items: none used)';
}

function evaluateModel(model: FmrlRec, split: Parameters<typeof evaluate>[1], config: RunConfig, which: 'valid' | 'test', excludeHistory: boolean, progress: boolean): MetricsBySize {
  return evaluate(model, split, which, { batchSize: config.train.evalBatchSize, maxLen: config.train.maxLen, excludeHistory, progress });
}

export interface EvaluateRunResult {
  report: MetricsReport;
  /** Largest difference to the saved metrics.json (null when there is none or history was excluded). */
  differenceToSaved: number | null;
}

/** Reload a run's best checkpoint and evaluate every size on validation and test. */
export async function evaluateRun(runDir: string, excludeHistory: boolean, options: JobOptions): Promise<EvaluateRunResult> {
  const config = loadRunConfig(runDir);
  const bestFile = path.join(runDir, BEST_FILE);
  if (!fs.existsSync(bestFile)) throw new UserError(`${runDir} has no ${BEST_FILE} yet (training has not finished an epoch)`);
  const prepared = await prepareRun(config, options.kern, options.progress, runDir);
  const metadata = loadParams(bestFile, prepared.model);
  const valid = evaluateModel(prepared.model, prepared.split, config, 'valid', excludeHistory, options.progress);
  const test = evaluateModel(prepared.model, prepared.split, config, 'test', excludeHistory, options.progress);
  const saved = readMetricsReport(runDir);
  const report: MetricsReport = {
    dataset: prepared.dataset.name, dims: config.model.dims, features: featureLabel(prepared.usedFeatures),
    best_epoch: Number(metadata.epoch ?? saved?.best_epoch ?? 0), train_seconds: saved?.train_seconds ?? 0, valid, test,
  };
  let differenceToSaved: number | null = null;
  if (excludeHistory) {
    writeJsonAtomic(path.join(runDir, 'metrics-exclude-history.json'), report);
  } else if (saved) {
    differenceToSaved = Math.max(maxMetricDifference(saved.valid, valid), maxMetricDifference(saved.test, test));
  }
  return { report, differenceToSaved };
}
