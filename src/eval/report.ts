/**
 * Reports of a run: `<run>/metrics.json` (the output contract scripts rely on)
 * and `<run>/metrics.md` (a Markdown table per split).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';
import { betaText } from './count-prior-fit';
import type { MetricsBySize } from './evaluate';
import type { Metrics } from './metrics';

/** Contents of `<run>/metrics.json`. */
export interface MetricsReport {
  dataset: string;
  dims: number[];
  features: string;
  best_epoch: number;
  train_seconds: number;
  /** Trained parameters (the values best.safetensors holds; frozen item features not counted). Absent from reports written before 2026-12-02. */
  parameters?: number;
  /**
   * With a count prior (src/model/count-prior.ts): what was fitted. valid and
   * test are then the network with its prior, network_valid and network_test
   * the network alone. Absent: the model has no count prior.
   */
  count_prior?: { rule: string; window: number; context: number; beta: Record<string, number> };
  valid: MetricsBySize;
  test: MetricsBySize;
  network_valid?: MetricsBySize;
  network_test?: MetricsBySize;
}

/** File name of the metrics report in a run folder (the JSON contract). */
export const METRICS_FILE = 'metrics.json';
/** File name of the Markdown tables beside it, for people. */
export const METRICS_MARKDOWN_FILE = 'metrics.md';

const COLUMNS = ['NDCG@5', 'Recall@5', 'NDCG@10', 'Recall@10', 'NDCG@20', 'Recall@20', 'MRR@10', 'NDCG@50', 'Recall@50'];

/** A Markdown table: one row per key of `rows` (the sizes, or e.g. baseline names, headed `label`), the main metrics as columns. */
export function metricsTable(metrics: Record<string, Metrics>, rows: readonly (number | string)[], label = 'size'): string {
  const lines = [`| ${label} | ${COLUMNS.join(' | ')} |`, `|---:|${COLUMNS.map(() => '---:').join('|')}|`];
  for (const key of rows) {
    const row = metrics[String(key)];
    lines.push(`| ${key} | ${COLUMNS.map((c) => row[c].toFixed(4)).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Write `<runDir>/metrics.json` and `<runDir>/metrics.md` (atomically); `command` is the command line quoted in metrics.md as their maker. */
export function writeMetricsReport(runDir: string, report: MetricsReport, command: string): void {
  writeJsonAtomic(path.join(runDir, METRICS_FILE), report);
  // One metrics.md section: a heading and the table of every size.
  const section = (title: string, metrics: MetricsBySize) => [`## ${title}`, '', metricsTable(metrics, report.dims), ''];
  const md = [
    `# ${report.dataset}: every size (features: ${report.features})`,
    '',
    `Best epoch ${report.best_epoch}, training ${report.train_seconds.toFixed(0)} s` +
      (report.parameters === undefined ? '' : `, ${report.parameters.toLocaleString('en-US')} trained parameters`) +
      `. Made by \`${command}\`.`,
    '',
    ...(report.count_prior
      ? [
          `With the count prior (${report.count_prior.rule}, window ${report.count_prior.window}, context ${report.count_prior.context}; ` +
            `β per size ${betaText(report.count_prior.beta)}); the network alone below.`,
          '',
        ]
      : []),
    ...section('Test', report.test),
    ...section('Validation', report.valid),
    ...(report.network_test && report.network_valid
      ? [...section('Test, the network alone', report.network_test), ...section('Validation, the network alone', report.network_valid)]
      : []),
  ].join('\n');
  writeFileAtomic(path.join(runDir, METRICS_MARKDOWN_FILE), md);
}

/** The metrics report of a run folder, or null when it has none; a file that is not JSON is a UserError. */
export function readMetricsReport(runDir: string): MetricsReport | null {
  const file = path.join(runDir, METRICS_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as MetricsReport;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Largest absolute difference between two metric sets over every size and metric. */
export function maxMetricDifference(a: MetricsBySize, b: MetricsBySize): number {
  let max = 0;
  for (const size of Object.keys(a)) {
    for (const name of Object.keys(a[size])) {
      const other = b[size]?.[name];
      max = Math.max(max, other === undefined ? Infinity : Math.abs(a[size][name] - other));
    }
  }
  return max;
}
