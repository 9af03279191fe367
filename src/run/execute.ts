/**
 * Whole jobs on a run folder: train (then test the best checkpoint and write
 * the reports) and evaluate a saved run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BlendRule, type CountBlendReport, evaluateCountBlend } from '../eval/count-blend';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import { maxMetricDifference, MetricsReport, readMetricsReport, writeMetricsReport } from '../eval/report';
import type { FmrlRec } from '../model/fmrlrec';
import { CHECKPOINT_FILE, evalOptions, trainModel, type TrainOptions } from '../train/trainer';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { prepareRun, type PrepareOptions } from './prepare';
import { featureLabel, loadRunConfig, RunConfig, saveRunConfig } from './run-config';
import { loadTrainedRun } from './trained-run';

/** What every job needs besides its run folder. */
export interface JobOptions extends Omit<PrepareOptions, 'runDir'> {
  /** Where one-line progress reports go (default: nowhere). */
  log?: (line: string) => void;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions extends JobOptions, Pick<TrainOptions, 'timeLimitSeconds' | 'onEpoch'> {
  /**
   * Continue the training run in the folder from its last completed epoch,
   * with the folder's own recipe (default false: the folder must not hold a run).
   */
  resume?: boolean;
  /** How the run was started, recorded in metrics.md (default "trainRun()"). */
  command?: string;
}

/**
 * Train a run from its recipe (or resume it), then evaluate the best checkpoint
 * on validation and test and write metrics.json / metrics.md into runDir.
 * @throws UserError (code "run-exists") when runDir holds a run and resume is off
 */
export async function trainRun(config: RunConfig, runDir: string, options: TrainRunOptions): Promise<MetricsReport> {
  const resume = options.resume ?? false;
  const log = options.log ?? (() => {});
  const hasCheckpoint = fs.existsSync(path.join(runDir, CHECKPOINT_FILE));
  if (hasCheckpoint && !resume) throw new UserError(`${runDir} already holds a training run`, 'run-exists');
  if (resume && hasCheckpoint) config = loadRunConfig(runDir);
  else saveRunConfig(runDir, config);
  const prepared = await prepareRun(config, { ...options, runDir });
  const { model, split, dataset } = prepared;
  for (const note of prepared.notes) log(`${dataset.name}: ${note}`);
  log(
    `${dataset.name}: ${split.train.length} users, ${dataset.numItems} items; model D=${model.width}, sizes ${config.model.dims.join(',')}, ` +
      `features ${featureLabel(prepared.usedFeatures)}${attributeNote(model)}, ${config.model.numBlocks} block(s)` +
      `${config.model.sizeWeights ? `, size weights ${config.model.sizeWeights.join(',')}` : ''}` +
      `${config.train.historyNegatives ? `, history negatives ×${config.train.historyNegatives}` : ''}` +
      `${config.train.futureTargets ? `, targets over the next ${config.train.futureTargets} items` : ''}; kernels ${options.kern.name} x${options.kern.threads()}`,
  );
  const { state, bestValid } = trainModel(model, split, config.train, {
    runDir,
    resume,
    progress: options.progress,
    log,
    timeLimitSeconds: options.timeLimitSeconds,
    onEpoch: options.onEpoch,
  });
  if (state.bestEpoch === 0 || !bestValid) throw new UserError('training finished without a completed epoch; nothing to evaluate');
  const test = evaluate(model, split, 'test', evalOptions(config.train, { progress: options.progress }));
  const report: MetricsReport = {
    dataset: dataset.name,
    dims: config.model.dims,
    features: featureLabel(prepared.usedFeatures),
    best_epoch: state.bestEpoch,
    train_seconds: state.trainSeconds,
    parameters: model.params.length,
    valid: bestValid,
    test,
  };
  writeMetricsReport(runDir, report, options.command ?? 'trainRun()');
  return report;
}

/** " (N attribute values)" when attributes were asked for; says so when the data has none. */
function attributeNote(model: FmrlRec): string {
  return model.attributes ? ` (${model.attributes.dim} attribute values)` : '';
}

/** Options of {@link evaluateRun}. */
export interface EvaluateRunOptions extends JobOptions {
  /**
   * Remove each user's history items from the ranking (not the paper's
   * protocol; default false). The result goes to metrics-exclude-history.json.
   */
  excludeHistory?: boolean;
}

/** What {@link evaluateRun} measured. */
export interface EvaluateRunResult {
  report: MetricsReport;
  /** Largest difference to the saved metrics.json (null when there is none or history was excluded). */
  differenceToSaved: number | null;
}

/**
 * Reload a run's best checkpoint and evaluate every size on validation and test.
 * @throws UserError when runDir is not a run folder or has no finished epoch
 */
export async function evaluateRun(runDir: string, options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const excludeHistory = options.excludeHistory ?? false;
  const run = await loadTrainedRun(runDir, { ...options, metrics: false });
  const settings = evalOptions(run.config.train, { progress: options.progress, excludeHistory });
  const valid: MetricsBySize = evaluate(run.model, run.split, 'valid', settings);
  const test: MetricsBySize = evaluate(run.model, run.split, 'test', settings);
  const saved = readMetricsReport(runDir);
  const report: MetricsReport = {
    dataset: run.dataset.name,
    dims: run.config.model.dims,
    features: run.features,
    best_epoch: run.bestEpoch ?? 0,
    train_seconds: saved?.train_seconds ?? 0,
    parameters: run.model.params.length,
    valid,
    test,
  };
  let differenceToSaved: number | null = null;
  if (excludeHistory) {
    writeJsonAtomic(path.join(runDir, 'metrics-exclude-history.json'), report);
  } else if (saved) {
    differenceToSaved = Math.max(maxMetricDifference(saved.valid, valid), maxMetricDifference(saved.test, test));
  }
  return { report, differenceToSaved };
}

/** The file {@link evaluateRunCountBlend} writes into the run folder for `rule`. */
export function countBlendFile(rule: BlendRule): string {
  return `metrics-count-blend-${rule}.json`;
}

/**
 * Reload a run's best checkpoint and evaluate it blended with a counting rule
 * (src/eval/count-blend.ts: β per size chosen on validation, test at that β);
 * writes the report to countBlendFile(rule) in the run folder.
 * @throws UserError when runDir is not a run folder or has no finished epoch
 */
export async function evaluateRunCountBlend(runDir: string, rule: BlendRule, options: JobOptions): Promise<CountBlendReport & { dataset: string }> {
  const run = await loadTrainedRun(runDir, { ...options, metrics: false });
  const report = {
    dataset: run.dataset.name,
    ...evaluateCountBlend(run.model, run.split, rule, evalOptions(run.config.train, { progress: options.progress })),
  };
  writeJsonAtomic(path.join(runDir, countBlendFile(rule)), report);
  return report;
}
