/**
 * A results report over several runs: `<out>/report.md` (a section of tables per
 * dataset) and `<out>/<dataset>.svg` (its chart), all from the runs' files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { chartSpec, renderSvg } from './chart';
import { loadReportRun } from './report-run';
import { buildSeries, RunSeries, runsByDataset } from './series';
import { datasetSection, reportIntroduction, summaryText } from './tables';

/** The Markdown file of a report. */
export const REPORT_MARKDOWN_FILE = 'report.md';

/** What {@link writeResultsReport} wrote. */
export interface WrittenReport {
  /** Path of report.md. */
  markdownFile: string;
  /** Paths of the charts, one per dataset, in report order. */
  chartFiles: string[];
  /** The compact plain-text table of every series at its largest size (and the paper's rows). */
  summary: string;
}

/** A file name for a dataset's chart: lower case, letters, digits and dashes, unique among `taken`. */
function chartFileName(dataset: string, taken: Set<string>): string {
  const base =
    dataset
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'dataset';
  let name = `${base}.svg`;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}.svg`;
  taken.add(name);
  return name;
}

/**
 * Read the run folders, group them by dataset and write report.md and one SVG
 * chart per dataset into `outDir`.
 * @param command the command line that makes this report, printed in it
 * @throws UserError for a folder that is not a finished run, a run given twice, or missing chart libraries
 */
export async function writeResultsReport(runDirs: readonly string[], outDir: string, command: string): Promise<WrittenReport> {
  if (runDirs.length === 0) throw new UserError('no run folders given');
  const seen = new Set<string>();
  for (const dir of runDirs) {
    const resolved = path.resolve(dir);
    if (seen.has(resolved)) throw new UserError(`${dir} is given twice`);
    seen.add(resolved);
  }
  const runs = runDirs.map(loadReportRun);
  const taken = new Set<string>();
  const datasets: Array<{ dataset: string; series: RunSeries[]; section: string; chartFile: string; svg: string }> = [];
  for (const [dataset, dataRuns] of runsByDataset(runs)) {
    const series = buildSeries(dataRuns);
    const chartFile = chartFileName(dataset, taken);
    const svg = await renderSvg(chartSpec(dataset, series));
    datasets.push({ dataset, series, chartFile, svg, section: datasetSection(dataset, dataRuns, series, chartFile) });
  }
  fs.mkdirSync(outDir, { recursive: true });
  const chartFiles = datasets.map((d) => {
    const file = path.join(outDir, d.chartFile);
    writeFileAtomic(file, d.svg.endsWith('\n') ? d.svg : `${d.svg}\n`);
    return file;
  });
  const markdownFile = path.join(outDir, REPORT_MARKDOWN_FILE);
  writeFileAtomic(markdownFile, [reportIntroduction(command), ...datasets.map((d) => d.section)].join('\n'));
  return { markdownFile, chartFiles, summary: summaryText(datasets) };
}
