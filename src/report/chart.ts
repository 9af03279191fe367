/**
 * The chart of a dataset: test NDCG@10 and Recall@10 against size (log2 axis),
 * one line per series (error bars where several seeds give a spread) and the
 * paper's per-size curve as a dashed reference line. Drawn as a Vega-Lite
 * specification and rendered to SVG headless, without a browser.
 */
import { publishedCurves } from '../eval/published';
import { RunSeries, summarizePoint } from './series';
import { publishedCurveName } from './tables';
import { loadChartLibraries } from './vega';

/** The metrics a chart shows, one panel each. */
export const CHART_METRICS = ['NDCG@10', 'Recall@10'] as const;

/** Where a line's numbers come from (solid: this project's runs; dashed: the paper). */
const SOURCES = ['run', 'paper'] as const;

/** One point of a line in a panel. */
interface ChartDatum {
  series: string;
  source: (typeof SOURCES)[number];
  metric: string;
  size: number;
  value: number;
  /** mean ± sd, only where several seeds were run. */
  low?: number;
  high?: number;
}

/** The Vega-Lite specification of a dataset's chart (plain data, deterministic). */
export function chartSpec(dataset: string, series: readonly RunSeries[]): object {
  const data: ChartDatum[] = [];
  for (const s of series) {
    for (const point of s.points) {
      for (const metric of CHART_METRICS) {
        const { mean, sd } = summarizePoint(point, 'test', metric);
        data.push({ series: s.name, source: 'run', metric, size: point.size, value: mean, ...(sd === null ? {} : { low: mean - sd, high: mean + sd }) });
      }
    }
  }
  const curves = publishedCurves(dataset).filter((c) => (CHART_METRICS as readonly string[]).includes(c.metric));
  for (const c of curves) {
    for (const p of c.bySize) data.push({ series: publishedCurveName(c), source: 'paper', metric: c.metric, size: p.size, value: p.value });
  }
  const names = [...series.map((s) => s.name), ...curves.map(publishedCurveName)];
  const sizes = [...new Set(data.map((d) => d.size))].sort((a, b) => a - b);
  const x = {
    field: 'size',
    type: 'quantitative',
    title: 'size m (log scale)',
    scale: { type: 'log', base: 2, domain: [sizes[0], sizes[sizes.length - 1]] },
    axis: { values: sizes, format: 'd', grid: true, labelOverlap: false, labelFlush: true },
  };
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: names }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${dataset}: test metrics against size`, anchor: 'start' },
    data: { values: data },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [...CHART_METRICS], header: { labelFontSize: 13 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            color,
            y: { field: 'value', type: 'quantitative', title: 'test value', scale: { zero: true } },
            strokeDash: {
              field: 'source',
              type: 'nominal',
              scale: {
                domain: [...SOURCES],
                range: [
                  [1, 0],
                  [5, 3],
                ],
              },
              legend: null,
            },
          },
        },
        {
          transform: [{ filter: 'isValid(datum.high)' }],
          mark: { type: 'errorbar', ticks: true },
          encoding: { x, color, y: { field: 'low', type: 'quantitative', title: 'test value' }, y2: { field: 'high' } },
        },
      ],
    },
  };
}

/**
 * Render a Vega-Lite specification to SVG text (no browser, no canvas; the same
 * input always gives the same text).
 * @throws UserError when vega or vega-lite is not installed
 */
export async function renderSvg(spec: object): Promise<string> {
  const { vega, vegaLite } = await loadChartLibraries();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
