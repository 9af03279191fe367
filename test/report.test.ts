/**
 * `fmrlrec report` on tiny synthetic run folders (run.json + metrics.json written
 * as `train` writes them, with made-up metrics): tables per dataset with the
 * paper's rows, nested and independent series, mean ± sd over seeds, SVG charts
 * naming every series, the same bytes on a second rendering, and one-line errors
 * for folders that are not finished runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MetricsBySize } from '../src/eval/evaluate';
import { PUBLISHED_FEATURES } from '../src/eval/published';
import { writeMetricsReport } from '../src/eval/report';
import { methodDescription } from '../src/report/method-label';
import { writeResultsReport } from '../src/report/write-report';
import { DEFAULT_MODEL, DEFAULT_TRAIN, defaultFeatures } from '../src/run/defaults';
import { featureLabel, type FeatureConfig, saveRunConfig } from '../src/run/run-config';
import { UserError } from '../src/util/errors';
import { writeSafetensors } from '../src/util/safetensors-file';
import { BEST_FILE } from '../src/train/trainer';

const CLI = path.resolve(__dirname, '../src/cli/main.js');

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Made-up metrics that grow with the size and shift with the seed, at every cutoff. */
function fakeMetrics(dims: number[], seed: number, scale: number): MetricsBySize {
  const out: MetricsBySize = {};
  for (const m of dims) {
    const base = scale * Math.log2(m) + seed * 1e-3;
    const row: Record<string, number> = {};
    for (const cut of [5, 10, 20, 50]) {
      row[`NDCG@${cut}`] = base * (cut / 20);
      row[`Recall@${cut}`] = base * (cut / 10);
      row[`MRR@${cut}`] = base * (cut / 40);
    }
    out[String(m)] = row;
  }
  return out;
}

/** A finished run folder as `fmrlrec train` leaves it (without weights). */
function fakeRun(root: string, name: string, opts: { dataset: string; dims: number[]; seed?: number; features?: FeatureConfig }): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const features = opts.features ?? defaultFeatures();
  const seed = opts.seed ?? 42;
  saveRunConfig(dir, {
    version: 1,
    dataset: { kind: 'p5', path: `/data/${opts.dataset}`, name: opts.dataset },
    features,
    model: { ...DEFAULT_MODEL, dims: opts.dims },
    train: { ...DEFAULT_TRAIN, seed },
  });
  writeMetricsReport(
    dir,
    {
      dataset: opts.dataset,
      dims: opts.dims,
      features: featureLabel(features),
      best_epoch: 7,
      train_seconds: 123.4,
      valid: fakeMetrics(opts.dims, seed, 0.002),
      test: fakeMetrics(opts.dims, seed, 0.001),
    },
    `fmrlrec train --out ${dir}`,
  );
  return dir;
}

const TEXT_ONLY: FeatureConfig = { text: 'use', itemIds: false, cacheDir: '/cache' };

test('report: tables with the paper rows, nested vs independent series, seeds, and SVG charts', async () => {
  const root = tempDir('fmrlrec-report-');
  const nested = fakeRun(root, 'beauty', { dataset: 'beauty', dims: [8, 16, 32] });
  const ind8 = fakeRun(root, 'beauty-8', { dataset: 'beauty', dims: [8], features: TEXT_ONLY });
  const ind32a = fakeRun(root, 'beauty-32-s1', { dataset: 'beauty', dims: [32], features: TEXT_ONLY, seed: 1 });
  const ind32b = fakeRun(root, 'beauty-32-s2', { dataset: 'beauty', dims: [32], features: TEXT_ONLY, seed: 2 });
  const toys = fakeRun(root, 'toys', { dataset: 'toys', dims: [8, 16], features: TEXT_ONLY });
  const runs = [nested, ind8, ind32a, ind32b, toys];
  const out = path.join(root, 'report');
  const written = await writeResultsReport(runs, out, 'fmrlrec report --runs ... --out report');

  assert.deepEqual(
    written.chartFiles.map((f) => path.basename(f)),
    ['beauty.svg', 'toys.svg'],
  );
  const md = fs.readFileSync(written.markdownFile, 'utf8');
  assert.match(md, /Made by `fmrlrec report --runs \.\.\. --out report`/);
  assert.match(md, /## beauty\n\n!\[beauty: test NDCG@10 and Recall@10 against size\]\(beauty\.svg\)/);
  assert.match(md, /## toys/);

  // Runs table: the nested run at its largest size, labelled with its method and features.
  const defaultLabel = featureLabel(defaultFeatures());
  const nestedRow = md.split('\n').find((l) => l.startsWith(`| ${nested} |`));
  assert.ok(nestedRow, 'a row for the nested run');
  const t32 = fakeMetrics([32], 42, 0.001)['32'];
  const v32 = fakeMetrics([32], 42, 0.002)['32'];
  assert.ok(nestedRow.includes(`| ${methodDescription(defaultLabel)} | ${defaultLabel} | nested | 32 | 8,16,32 | 42 | 7 | 123 s |`), nestedRow);
  assert.ok(
    nestedRow.endsWith(
      `| ${v32['NDCG@10'].toFixed(4)} | ${v32['Recall@10'].toFixed(4)} | ${t32['NDCG@5'].toFixed(4)} | ${t32['Recall@5'].toFixed(4)} | ${t32['NDCG@10'].toFixed(4)} | ${t32['Recall@10'].toFixed(4)} |`,
    ),
    nestedRow,
  );
  assert.match(methodDescription(defaultLabel), /hybrid.*project default/);
  assert.match(methodDescription('text:use'), /the paper's method/);
  assert.match(methodDescription('id'), /item-ID embeddings only/);
  assert.match(methodDescription('id', 'neighbours'), /^item-ID embeddings only \(LRURec-style\) \+ count prior \(neighbours; not in the paper\)$/);
  // The paper's rows for Beauty, with the features they used; none of another dataset's.
  assert.ok(md.includes(`| paper: fMRLRec | frozen features → projection (the paper's method) | ${PUBLISHED_FEATURES} | — | 1024 |`));
  assert.match(md, /\| paper: LRURec \(ID only\) \|.*\| 0\.0438 \| 0\.0871 \|/);
  assert.ok(md.includes('| paper: fMRLRec |') && !md.includes('0.0536'), 'no paper rows of a dataset not reported (Sports)');

  // Per-size tables: one row per series, the paper's Beauty curve as a row.
  const nestedSeries = `${defaultLabel} · nested D=32`;
  const independent = 'text:use · independent (one model per size)';
  assert.ok(md.includes(`| ${nestedSeries} | 1 |`));
  const recallRow = md
    .split('### Test Recall@10 by size')[1]
    .split('\n')
    .find((l) => l.startsWith(`| ${independent} |`));
  assert.ok(recallRow, 'the independent series has a Recall@10 row');
  const a = fakeMetrics([32], 1, 0.001)['32']['Recall@10'];
  const b = fakeMetrics([32], 2, 0.001)['32']['Recall@10'];
  const mean = (a + b) / 2;
  const sd = Math.abs(a - b) / Math.SQRT2;
  assert.equal(
    recallRow,
    `| ${independent} | 3 | ${fakeMetrics([8], 42, 0.001)['8']['Recall@10'].toFixed(4)} | — | ${mean.toFixed(4)} ± ${sd.toFixed(4)} | — | — | — | — | — |`,
  );
  assert.match(md, /\| paper: fMRLRec \(Recall@10 read off the plot\) \| — \| ≈0\.015 \| ≈0\.018 \| ≈0\.024 \|.*≈0\.094 \|/);
  // Seeds table: only the series with several seeds.
  const seeds = md.split('### Seeds')[1].split('## toys')[0];
  assert.ok(seeds.includes(`| ${independent} | 32 | 2 | 1, 2 |`));
  assert.ok(!seeds.includes(nestedSeries));

  // Charts: SVG naming every series, the paper's curve only on Beauty.
  const beautySvg = fs.readFileSync(written.chartFiles[0], 'utf8');
  const toysSvg = fs.readFileSync(written.chartFiles[1], 'utf8');
  assert.match(beautySvg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  for (const name of [nestedSeries, independent, 'paper: fMRLRec (Recall@10 read off the plot)', 'NDCG@10', 'Recall@10']) {
    assert.ok(beautySvg.includes(name), `beauty.svg names ${name}`);
  }
  assert.ok(toysSvg.includes('text:use · nested D=16'));
  assert.ok(!toysSvg.includes('paper:'));

  // Summary: every series at its largest size, and the paper's rows.
  assert.match(written.summary, /beauty +text:use · independent \(one model per size\) +32 +2 /);
  assert.match(written.summary, /beauty +paper: fMRLRec · bge-large text \+ SigLIP image \(frozen\), D=1024 +1024 +— +0\.0520 +0\.0939/);

  // The same runs give the same bytes (committed charts diff cleanly).
  const again = await writeResultsReport(runs, path.join(root, 'again'), 'fmrlrec report --runs ... --out report');
  assert.equal(fs.readFileSync(again.chartFiles[0], 'utf8'), beautySvg);
  assert.equal(fs.readFileSync(again.markdownFile, 'utf8'), md);
});

test('report: the train-once table puts each size of the nested model beside the model trained with that size alone, with total time and parameters', async () => {
  const root = tempDir('fmrlrec-report-once-');
  const nested = fakeRun(root, 'toys', { dataset: 'toys', dims: [8, 16] });
  const alone = [8, 16].map((m) => fakeRun(root, `toys-m${m}`, { dataset: 'toys', dims: [m], seed: 42 + m }));
  const values = (n: number) => ({ shape: [n], data: new Float32Array(n) });
  writeSafetensors(path.join(nested, BEST_FILE), { a: { shape: [3, 4], data: new Float32Array(12) }, b: values(6) });
  writeSafetensors(path.join(alone[0], BEST_FILE), { a: values(5) });
  writeSafetensors(path.join(alone[1], BEST_FILE), { a: values(9) });
  const written = await writeResultsReport([nested, ...alone], path.join(root, 'report'), 'fmrlrec report');
  const md = fs.readFileSync(written.markdownFile, 'utf8');
  const table = md.split('### Train once: the nested model against one model per size')[1].split('###')[0];
  const t = (m: number, seed: number) => fakeMetrics([m], seed, 0.001)[String(m)];
  const diff = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
  for (const m of [8, 16]) {
    const [n, i] = [t(m, 42), t(m, 42 + m)];
    assert.ok(
      table.includes(
        `| ${m} | ${n['NDCG@10'].toFixed(4)} | ${i['NDCG@10'].toFixed(4)} | ${diff(n['NDCG@10'] - i['NDCG@10'])} | ${n['Recall@10'].toFixed(4)} | ${i['Recall@10'].toFixed(4)} | ${diff(n['Recall@10'] - i['Recall@10'])} |`,
      ),
      table,
    );
  }
  assert.ok(table.includes('| all 2 sizes | 1 run(s), 123 s, 18 parameters | 2 runs, 247 s, 14 parameters | time ×2.00, parameters ×0.78 |'), table);
  // Without best.safetensors (a kept copy of the records) the count comes from metrics.json; with neither it is unknown, said so.
  fs.rmSync(path.join(alone[1], BEST_FILE));
  const again = fs.readFileSync((await writeResultsReport([nested, ...alone], path.join(root, 'again'), 'fmrlrec report')).markdownFile, 'utf8');
  assert.ok(again.includes('| 2 runs, 247 s, n/a (no best.safetensors, no count in metrics.json) parameters | time ×2.00 |'), again);
  const metricsFile = path.join(alone[1], 'metrics.json');
  fs.writeFileSync(metricsFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(metricsFile, 'utf8')), parameters: 9 }));
  const counted = fs.readFileSync((await writeResultsReport([nested, ...alone], path.join(root, 'counted'), 'fmrlrec report')).markdownFile, 'utf8');
  assert.ok(counted.includes('| all 2 sizes | 1 run(s), 123 s, 18 parameters | 2 runs, 247 s, 14 parameters | time ×2.00, parameters ×0.78 |'), counted);
});

test('report: series that share features and kind are told apart by the setting that differs', async () => {
  const root = tempDir('fmrlrec-report-');
  const a = fakeRun(root, 'a', { dataset: 'beauty', dims: [8, 16] });
  const b = path.join(root, 'b');
  fs.cpSync(a, b, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(b, 'run.json'), 'utf8'));
  config.train.lr = 0.001;
  fs.writeFileSync(path.join(b, 'run.json'), JSON.stringify(config));
  const written = await writeResultsReport([a, b], path.join(root, 'report'), 'fmrlrec report');
  assert.match(written.summary, /· nested D=16 · lr=0\.002 /);
  assert.match(written.summary, /· nested D=16 · lr=0\.001 /);
});

test('report: a run with a count prior is a series of its own, never averaged with the network alone, and not the train-once nested model', async () => {
  const root = tempDir('fmrlrec-report-');
  const network = fakeRun(root, 'network', { dataset: 'beauty', dims: [8, 16] });
  const withPrior = path.join(root, 'prior');
  fs.cpSync(network, withPrior, { recursive: true });
  const metrics = JSON.parse(fs.readFileSync(path.join(withPrior, 'metrics.json'), 'utf8'));
  metrics.count_prior = { rule: 'followers', window: 3, context: 3, beta: { '8': 8, '16': 4 } };
  metrics.network_test = metrics.test;
  metrics.test = fakeMetrics([8, 16], 7, 0.01);
  fs.writeFileSync(path.join(withPrior, 'metrics.json'), JSON.stringify(metrics));
  const single = fakeRun(root, 'm8', { dataset: 'beauty', dims: [8] });
  const written = await writeResultsReport([withPrior, network, single], path.join(root, 'report'), 'fmrlrec report');
  assert.match(written.summary, /text:use\+attr\+words\+id \+ count prior \(followers\) · nested D=16 +16 +1 /);
  assert.match(written.summary, /text:use\+attr\+words\+id · nested D=16 +16 +1 /);
  const markdown = fs.readFileSync(path.join(root, 'report', 'report.md'), 'utf8');
  const onceTable = markdown.slice(markdown.indexOf('### Train once'));
  const networkNdcg = JSON.parse(fs.readFileSync(path.join(network, 'metrics.json'), 'utf8')).test['8']['NDCG@10'].toFixed(4);
  assert.match(onceTable, new RegExp(`\\| 8 \\| ${networkNdcg} \\|`), 'the train-once row of size 8 is the network alone');
});

test('report: a folder that is not a finished run is a one-line error', async () => {
  const root = tempDir('fmrlrec-report-');
  const notRun = path.join(root, 'empty');
  fs.mkdirSync(notRun);
  await assert.rejects(
    writeResultsReport([notRun], path.join(root, 'out'), 'x'),
    (err: Error) => err instanceof UserError && /empty is not a run folder \(no run\.json/.test(err.message),
  );
  const unfinished = fakeRun(root, 'unfinished', { dataset: 'beauty', dims: [8] });
  fs.rmSync(path.join(unfinished, 'metrics.json'));
  await assert.rejects(
    writeResultsReport([unfinished], path.join(root, 'out'), 'x'),
    (err: Error) =>
      err instanceof UserError && err.code === 'run-unfinished' && /unfinished has no metrics\.json: its training has not finished$/.test(err.message),
  );
  const run = fakeRun(root, 'run', { dataset: 'beauty', dims: [8] });
  await assert.rejects(writeResultsReport([run, `${run}/`], path.join(root, 'out'), 'x'), /is given twice/);

  const cli = spawnSync(process.execPath, [CLI, 'report', '--runs', `${run},${notRun}`, '--out', path.join(root, 'out')], { encoding: 'utf8' });
  assert.equal(cli.status, 1);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.match(cli.stderr, /^fmrlrec report: .*empty is not a run folder/);
  assert.ok(!fs.existsSync(path.join(root, 'out')), 'nothing written');

  const ok = spawnSync(process.execPath, [CLI, 'report', '--runs', run, '--out', path.join(root, 'out')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^dataset +series +size +runs +test NDCG@10 +test Recall@10\n/);
  assert.ok(fs.existsSync(path.join(root, 'out', 'report.md')) && fs.existsSync(path.join(root, 'out', 'beauty.svg')));
});
