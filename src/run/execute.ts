/**
 * Whole jobs on a run folder: train (then test the best checkpoint and write
 * the reports) and evaluate a saved run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { betaText, type CountPriorFit, evaluateWithCountPrior, fitCountPrior } from '../eval/count-prior-fit';
import { evaluate, type EvalOptions, MetricsBySize } from '../eval/evaluate';
import { maxMetricDifference, MetricsReport, readMetricsReport, writeMetricsReport } from '../eval/report';
import type { FmrlRec } from '../model/fmrlrec';
import { CHECKPOINT_FILE, evalOptions, trainModel, type TrainOptions } from '../train/trainer';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { prepareRun, type PrepareOptions } from './prepare';
import type { Split } from '../data/types';
import { type CountPriorRecipe, featureLabel, loadRunConfig, RunConfig, saveRunConfig } from './run-config';
import { RUN_COUNT_PRIOR_FILE, loadTrainedRun, readCountPrior } from './trained-run';

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
  if (config.countPrior) checkCountPriorReach(config.countPrior, config.train.maxLen);
  if (!(resume && hasCheckpoint)) saveRunConfig(runDir, config);
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
  const settings = evalOptions(config.train, { progress: options.progress });
  const test = evaluate(model, split, 'test', settings);
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
  const final = config.countPrior ? withCountPrior(model, split, report, config.countPrior, runDir, settings, log) : report;
  writeMetricsReport(runDir, final, options.command ?? 'trainRun()');
  return final;
}

/**
 * The live service keeps a user's last maxLen items: a prior must not look
 * further back than that.
 * @throws UserError when the recipe's window or context exceeds maxLen
 */
function checkCountPriorReach(recipe: CountPriorRecipe, maxLen: number): void {
  const { window, context } = recipe.reach;
  if (Math.max(window, context) > maxLen) {
    throw new UserError(`the count prior's window (${window}) and context (${context}) must not exceed the input window --max-len (${maxLen})`);
  }
}

/**
 * Fit a count prior to the model (src/eval/count-prior-fit.ts), write it to
 * RUN_COUNT_PRIOR_FILE, and return the report of the network with its prior: its
 * validation and test figures become the prior's, the network's own move to
 * network_valid / network_test.
 */
function withCountPrior(
  model: FmrlRec,
  split: Split,
  network: MetricsReport,
  recipe: CountPriorRecipe,
  runDir: string,
  settings: EvalOptions,
  log: (line: string) => void,
): MetricsReport {
  const fit: CountPriorFit = fitCountPrior(model, split, recipe.rules, recipe.reach, settings);
  writeJsonAtomic(path.join(runDir, RUN_COUNT_PRIOR_FILE), fit);
  log(`count prior: ${fit.rule} (chosen on validation from ${recipe.rules.join(', ')}), β per size ${betaText(fit.beta)}`);
  const test = evaluateWithCountPrior(model, split, 'test', fit, settings);
  const { valid: networkValid, test: networkTest, ...rest } = network;
  return {
    ...rest,
    count_prior: { rule: fit.rule, window: fit.reach.window, context: fit.reach.context, beta: fit.beta },
    valid: fit.valid,
    test,
    network_valid: networkValid,
    network_test: networkTest,
  };
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
  let report: MetricsReport = {
    dataset: run.dataset.name,
    dims: run.config.model.dims,
    features: run.features,
    best_epoch: run.bestEpoch ?? 0,
    train_seconds: saved?.train_seconds ?? 0,
    parameters: run.model.params.length,
    valid,
    test,
  };
  const prior = excludeHistory ? null : readCountPrior(runDir);
  if (prior) {
    report = {
      ...report,
      count_prior: { rule: prior.rule, window: prior.reach.window, context: prior.reach.context, beta: prior.beta },
      valid: evaluateWithCountPrior(run.model, run.split, 'valid', prior, settings),
      test: evaluateWithCountPrior(run.model, run.split, 'test', prior, settings),
      network_valid: valid,
      network_test: test,
    };
  }
  let differenceToSaved: number | null = null;
  if (excludeHistory) {
    writeJsonAtomic(path.join(runDir, 'metrics-exclude-history.json'), report);
  } else if (saved) {
    const pairs: [MetricsBySize | undefined, MetricsBySize | undefined][] = [
      [saved.valid, report.valid],
      [saved.test, report.test],
      [saved.network_valid, report.network_valid],
      [saved.network_test, report.network_test],
    ];
    differenceToSaved = Math.max(...pairs.map(([a, b]) => (a && b ? maxMetricDifference(a, b) : a || b ? Infinity : 0)));
  }
  return { report, differenceToSaved };
}

/** Options of {@link fitRunCountPrior}. */
export interface FitRunCountPriorOptions extends JobOptions {
  /** What to fit; null removes the run's prior. */
  recipe: CountPriorRecipe | null;
  /** How the fit was started, recorded in metrics.md (default "fitRunCountPrior()"). */
  command?: string;
}

/**
 * Fit (or refit, or remove) the count prior of a trained run, as `trainRun`
 * does after training: records the recipe in run.json, writes the fit to
 * RUN_COUNT_PRIOR_FILE and rewrites metrics.json / metrics.md. The network's
 * metrics come from metrics.json.
 * @throws UserError when runDir is not a run folder, has no finished epoch or no metrics.json
 */
export async function fitRunCountPrior(runDir: string, options: FitRunCountPriorOptions): Promise<MetricsReport> {
  const saved = readMetricsReport(runDir);
  if (!saved) throw new UserError(`${runDir} has no metrics.json (training has not finished)`);
  const { network_valid, network_test, count_prior: _old, ...rest } = saved;
  const network: MetricsReport = { ...rest, valid: network_valid ?? saved.valid, test: network_test ?? saved.test };
  const config = loadRunConfig(runDir);
  if (options.recipe) checkCountPriorReach(options.recipe, config.train.maxLen);
  const run = await loadTrainedRun(runDir, { ...options, metrics: false });
  saveRunConfig(runDir, { ...run.config, countPrior: options.recipe });
  fs.rmSync(path.join(runDir, RUN_COUNT_PRIOR_FILE), { force: true });
  const settings = evalOptions(run.config.train, { progress: options.progress });
  const report = options.recipe ? withCountPrior(run.model, run.split, network, options.recipe, runDir, settings, options.log ?? (() => {})) : network;
  writeMetricsReport(runDir, report, options.command ?? 'fitRunCountPrior()');
  return report;
}
