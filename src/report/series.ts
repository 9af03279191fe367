/**
 * Grouping a dataset's runs into series, the lines of a report's chart and the
 * rows of its per-size tables:
 * - nested: one run trained with a ladder of sizes (train once, deploy any size);
 * - independent: runs trained with a single size each (`--dims m`), one model
 *   per size, together forming a curve.
 * Runs whose recipes differ only in the seed fall into the same series (and, at
 * a size, the same point), so their metrics are averaged with a spread.
 */
import type { ReportRun } from './report-run';

/** How a series' models were trained. */
export type SeriesKind = 'nested' | 'independent';

/** One size of a series and the runs that measured it (several = several seeds). */
export interface SeriesPoint {
  size: number;
  runs: ReportRun[];
}

/** A line of the chart: one method and recipe, every size it was measured at. */
export interface RunSeries {
  /** Unique within its dataset, e.g. "text:use+attr+words+id · nested D=256". */
  name: string;
  kind: SeriesKind;
  /** The features label of metrics.json. */
  features: string;
  /** The rule of the runs' count prior, or null for the network alone. */
  countPrior: string | null;
  runs: ReportRun[];
  /** Ascending by size. */
  points: SeriesPoint[];
}

/** Mean and sample standard deviation of a metric over the runs of a point. */
export interface MetricSummary {
  mean: number;
  /** Sample standard deviation (n − 1), or null for a single run. */
  sd: number | null;
  n: number;
}

/** The runs of each dataset (metrics.json's name), in the order given. */
export function runsByDataset(runs: readonly ReportRun[]): Map<string, ReportRun[]> {
  const out = new Map<string, ReportRun[]>();
  for (const run of runs) {
    const list = out.get(run.metrics.dataset) ?? [];
    list.push(run);
    out.set(run.metrics.dataset, list);
  }
  return out;
}

/** A run's kind: independent when trained with a single size. */
export function seriesKind(run: ReportRun): SeriesKind {
  return run.sizes.length === 1 ? 'independent' : 'nested';
}

/**
 * The settings that make runs comparable, as text: the features used, the
 * count prior's rule when there is one, the data
 * (a synthetic dataset's generator settings), the model and training settings
 * except the seed, and the ladder of a nested run (an independent series spans
 * several single sizes).
 */
function recipeSettings(run: ReportRun): Record<string, string> {
  const text = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  const out: Record<string, string> = { features: run.metrics.features };
  if (run.metrics.count_prior) out.countPrior = run.metrics.count_prior.rule;
  const { dataset } = run.config;
  if (dataset.kind === 'synthetic') out.data = `synthetic ${dataset.users} users, ${dataset.items} items, seed ${dataset.seed}`;
  if (seriesKind(run) === 'nested') out.sizes = run.sizes.join(',');
  const { dims: _dims, ...model } = run.config.model;
  const { seed: _seed, ...train } = run.config.train;
  for (const [key, value] of Object.entries({ ...model, ...train })) out[key] = text(value);
  return out;
}

/** The series of one dataset's runs, in the order their first runs were given. */
export function buildSeries(runs: readonly ReportRun[]): RunSeries[] {
  const groups = new Map<string, { kind: SeriesKind; settings: Record<string, string>; runs: ReportRun[] }>();
  for (const run of runs) {
    const kind = seriesKind(run);
    const settings = recipeSettings(run);
    const key = JSON.stringify([kind, Object.entries(settings).sort()]);
    const group = groups.get(key) ?? { kind, settings, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  const series = [...groups.values()].map((g): RunSeries & { settings: Record<string, string> } => {
    const bySize = new Map<number, ReportRun[]>();
    for (const run of g.runs) for (const size of run.sizes) bySize.set(size, [...(bySize.get(size) ?? []), run]);
    const points = [...bySize.entries()].sort((a, b) => a[0] - b[0]).map(([size, pointRuns]) => ({ size, runs: pointRuns }));
    const width = points[points.length - 1].size;
    const kindText = g.kind === 'nested' ? `nested D=${width}` : 'independent (one model per size)';
    const countPrior = g.settings.countPrior ?? null;
    const prior = countPrior ? ` + count prior (${countPrior})` : '';
    return {
      name: `${g.settings.features}${prior} · ${kindText}`,
      kind: g.kind,
      features: g.settings.features,
      countPrior,
      runs: g.runs,
      points,
      settings: g.settings,
    };
  });
  disambiguateNames(series);
  return series.map(({ settings: _settings, ...s }) => s);
}

/** Where series share a name, append the settings in which they differ (e.g. "· lr=0.001"). */
function disambiguateNames(series: Array<RunSeries & { settings: Record<string, string> }>): void {
  const byName = new Map<string, typeof series>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    const keys = [...new Set(same.flatMap((s) => Object.keys(s.settings)))];
    const differing = keys.filter((k) => new Set(same.map((s) => s.settings[k])).size > 1);
    for (const s of same) s.name += differing.map((k) => ` · ${k}=${s.settings[k] ?? '(unset)'}`).join('');
  }
}

/** Mean and spread of a test or validation metric over a point's runs. */
export function summarizePoint(point: SeriesPoint, split: 'valid' | 'test', metric: string): MetricSummary {
  const values = point.runs.map((run) => run.metrics[split][String(point.size)][metric]);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/** The seeds of a point's runs, ascending. */
export function pointSeeds(point: SeriesPoint): number[] {
  return point.runs.map((run) => run.config.train.seed).sort((a, b) => a - b);
}
