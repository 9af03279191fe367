/**
 * The Markdown tables of a results report, per dataset: every run (at its
 * largest size) beside the paper's rows, test NDCG@10 and Recall@10 of every
 * series at every size, the nested model against one model per size, and the
 * spread over seeds.
 */
import { PUBLISHED_SOURCE, PUBLISHED_WIDTH, PublishedCurve, PublishedRow, publishedCurves, publishedRows } from '../eval/published';
import { methodDescription } from './method-label';
import type { ReportRun } from './report-run';
import { MetricSummary, pointSeeds, RunSeries, seriesKind, summarizePoint } from './series';

/** A metric value as every table prints it. */
export function formatValue(x: number): string {
  return x.toFixed(4);
}

/** "mean" for one run, "mean ± sd" for several. */
export function formatSummary(s: MetricSummary): string {
  return s.sd === null ? formatValue(s.mean) : `${formatValue(s.mean)} ± ${formatValue(s.sd)}`;
}

/** A table cell: Markdown's column separator escaped. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function markdownTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The paper's name for a row, e.g. "paper: fMRLRec". */
export function publishedRowName(row: Pick<PublishedRow, 'model'>): string {
  return `paper: ${row.model}`;
}

/** The name of a published curve as a series, e.g. "paper: fMRLRec (Recall@10 read off the plot)". */
export function publishedCurveName(curve: PublishedCurve): string {
  return `paper: ${curve.model} (${curve.metric} read off the plot)`;
}

/**
 * Every run of a dataset at its largest size (validation and test), then the
 * paper's rows for the dataset (test only; the paper gives D = 1024).
 */
export function runsTable(runs: readonly ReportRun[], dataset: string): string {
  const header = [
    'run',
    'method',
    'features',
    'kind',
    'D',
    'sizes',
    'seed',
    'best epoch',
    'train time',
    'valid NDCG@10',
    'valid Recall@10',
    'test NDCG@5',
    'test Recall@5',
    'test NDCG@10',
    'test Recall@10',
  ];
  const rows = runs.map((run) => {
    const valid = run.metrics.valid[String(run.width)];
    const test = run.metrics.test[String(run.width)];
    return [
      run.dir,
      methodDescription(run.metrics.features, run.metrics.count_prior?.rule ?? null),
      run.metrics.features,
      seriesKind(run),
      String(run.width),
      run.sizes.join(','),
      String(run.config.train.seed),
      String(run.metrics.best_epoch),
      `${Math.round(run.metrics.train_seconds)} s`,
      formatValue(valid['NDCG@10']),
      formatValue(valid['Recall@10']),
      formatValue(test['NDCG@5']),
      formatValue(test['Recall@5']),
      formatValue(test['NDCG@10']),
      formatValue(test['Recall@10']),
    ];
  });
  for (const p of publishedRows(dataset)) {
    rows.push([
      publishedRowName(p),
      p.method,
      p.features,
      '—',
      String(PUBLISHED_WIDTH),
      '—',
      '—',
      '—',
      '—',
      '—',
      '—',
      formatValue(p['NDCG@5']),
      formatValue(p['Recall@5']),
      formatValue(p['NDCG@10']),
      formatValue(p['Recall@10']),
    ]);
  }
  return markdownTable(header, ['l', 'l', 'l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], rows);
}

/**
 * One test metric of every series at every size (mean ± sd where a size has
 * several seeds), plus the paper's per-size curve of that metric if any.
 */
export function perSizeTable(series: readonly RunSeries[], dataset: string, metric: 'NDCG@10' | 'Recall@10'): string {
  const curves = publishedCurves(dataset).filter((c) => c.metric === metric);
  const sizes = [...new Set([...series.flatMap((s) => s.points.map((p) => p.size)), ...curves.flatMap((c) => c.bySize.map((p) => p.size))])].sort(
    (a, b) => a - b,
  );
  const rows = series.map((s) => {
    const bySize = new Map(s.points.map((p) => [p.size, formatSummary(summarizePoint(p, 'test', metric))]));
    return [s.name, String(s.runs.length), ...sizes.map((m) => bySize.get(m) ?? '—')];
  });
  for (const c of curves) {
    const bySize = new Map(c.bySize.map((p) => [p.size, `≈${p.value.toFixed(3)}`]));
    rows.push([publishedCurveName(c), '—', ...sizes.map((m) => bySize.get(m) ?? '—')]);
  }
  return markdownTable(['series', 'runs', ...sizes.map(String)], ['l', 'r', ...sizes.map((): 'r' => 'r')], rows);
}

/**
 * Series measured with several seeds, at their largest size: the seeds and the
 * mean ± sample standard deviation. Null when every series has one run per size.
 */
export function seedsTable(series: readonly RunSeries[]): string | null {
  const rows: string[][] = [];
  for (const s of series) {
    const point = s.points[s.points.length - 1];
    if (point.runs.length < 2) continue;
    rows.push([
      s.name,
      String(point.size),
      String(point.runs.length),
      pointSeeds(point).join(', '),
      formatSummary(summarizePoint(point, 'valid', 'NDCG@10')),
      formatSummary(summarizePoint(point, 'test', 'NDCG@10')),
      formatSummary(summarizePoint(point, 'test', 'Recall@10')),
    ]);
  }
  if (rows.length === 0) return null;
  return markdownTable(['series', 'size', 'runs', 'seeds', 'valid NDCG@10', 'test NDCG@10', 'test Recall@10'], ['l', 'r', 'r', 'l', 'r', 'r', 'r'], rows);
}

/**
 * The train-once comparison: for each independent series (one model per size)
 * with the features of a nested series, test NDCG@10 and Recall@10 of both at
 * every size they share, then the totals: training time (the independent
 * models' train_seconds added up, against the nested run's) and trained
 * parameters (likewise, from best.safetensors or metrics.json).
 * Null when no dataset series pairs up.
 */
export function trainOnceTable(series: readonly RunSeries[]): string | null {
  const rows: string[][] = [];
  for (const independent of series.filter((s) => s.kind === 'independent')) {
    const nested = series.find((s) => s.kind === 'nested' && s.features === independent.features && s.countPrior === independent.countPrior);
    if (!nested) continue;
    const nestedAt = new Map(nested.points.map((p) => [p.size, p]));
    const shared = independent.points.filter((p) => nestedAt.has(p.size));
    if (shared.length === 0) continue;
    for (const point of shared) {
      const n = nestedAt.get(point.size)!;
      const [nN, nR, iN, iR] = [
        summarizePoint(n, 'test', 'NDCG@10'),
        summarizePoint(n, 'test', 'Recall@10'),
        summarizePoint(point, 'test', 'NDCG@10'),
        summarizePoint(point, 'test', 'Recall@10'),
      ];
      rows.push([
        String(point.size),
        formatSummary(nN),
        formatSummary(iN),
        signed(nN.mean - iN.mean),
        formatSummary(nR),
        formatSummary(iR),
        signed(nR.mean - iR.mean),
      ]);
    }
    const independentRuns = shared.flatMap((p) => p.runs);
    const seconds = (runs: readonly ReportRun[]) => runs.reduce((a, r) => a + r.metrics.train_seconds, 0);
    const parameters = (runs: readonly ReportRun[]) => (runs.some((r) => r.parameters === null) ? null : runs.reduce((a, r) => a + r.parameters!, 0));
    const [nestedSeconds, nestedParameters] = [seconds(nested.runs), parameters(nested.runs)];
    const [independentSeconds, independentParameters] = [seconds(independentRuns), parameters(independentRuns)];
    rows.push([
      `all ${shared.length} sizes`,
      `${nested.runs.length} run(s), ${Math.round(nestedSeconds)} s, ${count(nestedParameters)} parameters`,
      `${independentRuns.length} runs, ${Math.round(independentSeconds)} s, ${count(independentParameters)} parameters`,
      `time ×${(independentSeconds / nestedSeconds).toFixed(2)}` +
        (nestedParameters && independentParameters ? `, parameters ×${(independentParameters / nestedParameters).toFixed(2)}` : ''),
      '',
      '',
      '',
    ]);
  }
  if (rows.length === 0) return null;
  return markdownTable(
    ['size', 'nested NDCG@10', 'independent NDCG@10', 'nested − independent', 'nested Recall@10', 'independent Recall@10', 'nested − independent'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

/** A difference with its sign, e.g. "+0.0012". */
function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
}

/** A parameter count, e.g. "3,412,096"; "n/a" when unknown. */
function count(n: number | null): string {
  return n === null ? 'n/a (no best.safetensors, no count in metrics.json)' : n.toLocaleString('en-US');
}

/** The section of report.md for one dataset (the chart is a file beside it). */
export function datasetSection(dataset: string, runs: readonly ReportRun[], series: readonly RunSeries[], chartFile: string): string {
  const parts = [
    `## ${dataset}`,
    '',
    `![${dataset}: test NDCG@10 and Recall@10 against size](${chartFile})`,
    '',
    '### Runs (each at its largest size)',
    '',
    runsTable(runs, dataset),
    '',
    '### Test NDCG@10 by size',
    '',
    perSizeTable(series, dataset, 'NDCG@10'),
    '',
    '### Test Recall@10 by size',
    '',
    perSizeTable(series, dataset, 'Recall@10'),
    '',
  ];
  const once = trainOnceTable(series);
  if (once) {
    parts.push(
      '### Train once: the nested model against one model per size',
      '',
      "Test metrics of the nested model's size-m slice and of a model trained with only size m (same features,",
      "schedule and seed); the last row adds up the independent models' training time and parameters against the one nested run.",
      '',
      once,
      '',
    );
  }
  const seeds = seedsTable(series);
  if (seeds) parts.push('### Seeds', '', 'Mean ± sample standard deviation over runs whose recipes differ only in the seed.', '', seeds, '');
  return parts.join('\n');
}

/** The opening of report.md: how it was made and how to read it. */
export function reportIntroduction(command: string): string {
  return [
    '# Results report',
    '',
    `Made by \`${command}\` from each run's run.json and metrics.json: no number here is typed by hand,`,
    `except the paper's (rows and lines named "paper: ..."), which come from src/eval/published.ts (${PUBLISHED_SOURCE}).`,
    '',
    'The paper used frozen bge-large text + SigLIP image features at D = 1024; each run used the features in its',
    '"features" column at its width D, so the two are comparable in protocol, not in inputs. "nested" is one model',
    'trained with the whole ladder of sizes; "independent" is one model trained per size (`--dims m`). A ± b is the',
    "mean ± sample standard deviation over seeds; train time is the run's train_seconds.",
    '',
  ].join('\n');
}

/** The compact plain-text table `fmrlrec report` prints: every series and paper row at its largest size. */
export function summaryText(datasets: ReadonlyArray<{ dataset: string; series: readonly RunSeries[] }>): string {
  const rows: string[][] = [['dataset', 'series', 'size', 'runs', 'test NDCG@10', 'test Recall@10']];
  for (const { dataset, series } of datasets) {
    for (const s of series) {
      const point = s.points[s.points.length - 1];
      rows.push([
        dataset,
        s.name,
        String(point.size),
        String(point.runs.length),
        formatSummary(summarizePoint(point, 'test', 'NDCG@10')),
        formatSummary(summarizePoint(point, 'test', 'Recall@10')),
      ]);
    }
    for (const p of publishedRows(dataset)) {
      rows.push([dataset, `${publishedRowName(p)} · ${p.features}`, String(PUBLISHED_WIDTH), '—', formatValue(p['NDCG@10']), formatValue(p['Recall@10'])]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return (
    rows
      .map((r) =>
        r
          .map((v, c) => v.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
