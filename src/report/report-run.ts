/**
 * A finished run as a report sees it: its recipe (run.json), its results
 * (metrics.json) and, when the folder still has best.safetensors, how many
 * parameters it trained, read from a run folder made by `fmrlrec train`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRICS_FILE, MetricsReport, readMetricsReport } from '../eval/report';
import { loadRunConfig, RunConfig } from '../run/run-config';
import { BEST_FILE } from '../train/trainer';
import { UserError } from '../util/errors';
import { safetensorsValueCount } from '../util/safetensors-file';

/** The metrics every report table and chart needs at every size. */
export const REPORT_METRICS = ['NDCG@5', 'Recall@5', 'NDCG@10', 'Recall@10'] as const;

/** One run folder, read. */
export interface ReportRun {
  /** The folder as the user named it (reports print it as given). */
  dir: string;
  config: RunConfig;
  metrics: MetricsReport;
  /** The sizes, ascending. */
  sizes: number[];
  /** The largest size (the run's width D). */
  width: number;
  /**
   * Trained parameters: the values of best.safetensors, else metrics.json's
   * count; null when the folder has neither (a kept copy of the records of a
   * run made before metrics.json counted them).
   */
  parameters: number | null;
}

/**
 * Read a run folder.
 * @throws UserError when the folder is not a run, has no metrics.json yet, or its metrics.json lacks a size or metric
 */
export function loadReportRun(dir: string): ReportRun {
  const config = loadRunConfig(dir);
  const metrics = readMetricsReport(dir);
  const file = path.join(dir, METRICS_FILE);
  if (!metrics) throw new UserError(`${dir} has no ${METRICS_FILE}: its training has not finished`, 'run-unfinished');
  if (typeof metrics.dataset !== 'string' || !Array.isArray(metrics.dims) || metrics.dims.length === 0 || !metrics.valid || !metrics.test) {
    throw new UserError(`${file}: not an fmrlrec metrics report (needs dataset, dims, valid, test)`);
  }
  for (const split of ['valid', 'test'] as const) {
    for (const size of metrics.dims) {
      const row = metrics[split][String(size)];
      const missing = REPORT_METRICS.find((name) => typeof row?.[name] !== 'number');
      if (missing) throw new UserError(`${file}: ${split} has no ${missing} for size ${size}`);
    }
  }
  const sizes = [...metrics.dims].sort((a, b) => a - b);
  const best = path.join(dir, BEST_FILE);
  const parameters = fs.existsSync(best) ? safetensorsValueCount(best) : (metrics.parameters ?? null);
  return { dir, config, metrics, sizes, width: sizes[sizes.length - 1], parameters };
}
