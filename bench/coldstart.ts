/**
 * Cold-start quality of items added without retraining (`npm run bench --
 * coldstart`, or `node dist/bench/coldstart.js` after `npm run build`):
 *
 * 1. pick a seeded fraction (default 5%) of the dataset's items;
 * 2. write the dataset without them: their interactions are dropped (users
 *    left with no item are dropped here, those with fewer than 3 by training,
 *    as always);
 * 3. train on it with the recipe of the run trained on every item (--full-run:
 *    same features, model and training settings), in <work>/run (a finished
 *    run there is reused, an interrupted one resumed);
 * 4. export every size and add the held-out items with the code of
 *    `fmrlrec items add` (src/deploy/add-items.ts): their vectors come from
 *    their metadata alone;
 * 5. evaluate the original test users whose test target is a held-out item,
 *    leave-one-out as in training (the input is their whole history before
 *    the target, the last L items read; full ranking over every item, history
 *    items kept; ties pessimistic), with
 *    (a) the cold-start model (held-out items added after training),
 *    (b) the full run's model (trained with every item), exported too,
 *    (c) a popularity ranking: items by their count in every user's input
 *        history of the full data (so it knows the held-out items'
 *        popularity, which a real cold start would not),
 *    and print a Markdown table (Recall@10, NDCG@10 at every size).
 * Options: see HELP below (--help).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFlags, numberFlag } from '../src/cli/args';
import { readP5Dataset, writeP5Dataset } from '../src/data/p5';
import { dropShortUsers } from '../src/data/split';
import type { Dataset } from '../src/data/types';
import { addItemsToModelFolder } from '../src/deploy/add-items';
import { exportAllSizes, exportSourceOf } from '../src/deploy/export';
import { ItemToAdd } from '../src/deploy/new-items';
import { CUTOFFS, Metrics, metricsFromRanks } from '../src/eval/metrics';
import { getKernels } from '../src/kernels';
import { trainRun } from '../src/run/execute';
import { loadRunConfig, RunConfig } from '../src/run/run-config';
import { loadTrainedRun } from '../src/run/trained-run';
import { CHECKPOINT_FILE } from '../src/train/trainer';
import { loadModelFolder, LoadedModel } from '../src/serve/model-folder';
import { serviceKernels } from '../src/serve/native-kernels';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';
import { log, table } from './output';
import { ROOT } from './paths';

const HELP = `Usage: npm run bench -- coldstart [options]   (or node dist/bench/coldstart.js [options])

Cold-start quality of items added without retraining: holds a seeded share of
the items out of training, adds them afterwards with "fmrlrec items add"'s code,
and ranks the test users whose target is a held-out item, against the model
trained with every item and a popularity ranking.

  --full-run <dir>     the run trained with every item; its recipe trains the
                       held-out run too                          (default runs/beauty)
  --data <dir>         the dataset (P5 folder) the full run was trained on
                                                    (default: the full run's dataset)
  --fraction <x>       share of the items held out                 (default 0.05)
  --seed <n>           which items                                 (default 42)
  --work <dir>         the held-out dataset, run and exports; a finished run
                       there is reused, an interrupted one resumed
                                              (default runs/<dataset>-coldstart-s<seed>)
  --epochs <n>         train the held-out run this many epochs instead of the
                       recipe's (a quick check of the script, not a measurement)
  --json <file>        also write the results as JSON
`;

/** The options (the CLI's parser: a bad flag is one line pointing at --help). */
interface Options {
  fullRun: string;
  data: string | null;
  fraction: number;
  seed: number;
  work: string | null;
  epochs: number | null;
  json: string | null;
}

function options(argv: string[]): Options | null {
  const { values } = parseFlags(
    'npm run bench -- coldstart',
    argv.filter((a) => a !== 'coldstart'),
    {
      'full-run': { type: 'string' },
      data: { type: 'string' },
      fraction: { type: 'string' },
      seed: { type: 'string' },
      work: { type: 'string' },
      epochs: { type: 'string' },
      json: { type: 'string' },
    },
  );
  if (values.help) return null;
  return {
    fullRun: (values['full-run'] as string | undefined) ?? path.join(ROOT, 'runs', 'beauty'),
    data: (values.data as string | undefined) ?? null,
    fraction: numberFlag(values, 'fraction', 0.05, { min: 0.001, max: 0.5 }),
    seed: numberFlag(values, 'seed', 42, { min: 0, integer: true }),
    work: (values.work as string | undefined) ?? null,
    epochs: values.epochs === undefined ? null : numberFlag(values, 'epochs', 1, { min: 1, integer: true }),
    json: (values.json as string | undefined) ?? null,
  };
}

/** `count` distinct item ids of 1..n, drawn with the seed, ascending. */
export function heldOutItems(n: number, count: number, seed: number): number[] {
  const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
  new Rng(seed).shuffle(ids);
  return Array.from(ids.subarray(0, count)).sort((a, b) => a - b);
}

/**
 * The dataset without the held-out items: their interactions dropped, users
 * left with none dropped, the remaining items renumbered 1..N' in their order.
 */
export function withoutItems(ds: Dataset, heldOut: ReadonlySet<number>, name: string): Dataset {
  const kept = new Int32Array(ds.numItems + 1); // old id → new id (0: held out)
  let next = 0;
  for (let i = 1; i <= ds.numItems; i++) if (!heldOut.has(i)) kept[i] = ++next;
  const sequences: Int32Array[] = [];
  const userIds: string[] = [];
  ds.sequences.forEach((s, u) => {
    const rest = Int32Array.from(
      Array.from(s)
        .filter((i) => !heldOut.has(i))
        .map((i) => kept[i]),
    );
    if (rest.length > 0) {
      sequences.push(rest);
      userIds.push(ds.userIds[u]);
    }
  });
  const itemIds = [''];
  const items: Dataset['items'] = [null];
  for (let i = 1; i <= ds.numItems; i++) {
    if (kept[i] === 0) continue;
    itemIds.push(ds.itemIds[i]);
    items.push(ds.items[i]);
  }
  return { name, numItems: next, sequences, userIds, itemIds, items };
}

/** Ranks (1 = best, ties against the target) of each user's target at every size of a model, in the model's own ids. */
function modelRanks(model: LoadedModel, histories: string[][], targets: string[]): Int32Array {
  const { engine, catalogue } = model;
  const ids = (asins: string[]) =>
    asins.map((a) => {
      const id = catalogue.idOfAsin(a);
      if (id === null) throw new Error(`${model.dir} has no item ${a}`);
      return id;
    });
  const sizes = engine.sizes;
  const ranks = new Int32Array(targets.length * sizes.length);
  const w = engine.width;
  const batch = 256;
  for (let start = 0; start < targets.length; start += batch) {
    const end = Math.min(targets.length, start + batch);
    const users = engine.userVectors(histories.slice(start, end).map(ids), w);
    const target = ids(targets.slice(start, end));
    sizes.forEach((m, k) => {
      const prefix = new Float32Array((end - start) * m);
      for (let b = 0; b < end - start; b++) prefix.set(users.subarray(b * w, b * w + m), b * m);
      const scores = engine.scoreBatch(prefix, m);
      const n1 = engine.numItems + 1;
      for (let b = 0; b < end - start; b++) {
        const row = scores.subarray(b * n1, (b + 1) * n1);
        const t = row[target[b]];
        let rank = 1;
        for (let i = 1; i < n1; i++) if (i !== target[b] && !(row[i] < t)) rank++;
        ranks[(start + b) * sizes.length + k] = rank;
      }
    });
  }
  return ranks;
}

/** Ranks of the targets when items are ranked by their counts (ties against the target). */
function popularityRanks(counts: ReadonlyMap<string, number>, targets: string[]): Int32Array {
  const all = [...counts.values()];
  return Int32Array.from(targets, (t) => {
    const c = counts.get(t) as number;
    return all.reduce((rank, x) => rank + (x >= c ? 1 : 0), 0); // 1 + the other items counted at least as often
  });
}

/** One row of the result: a ranking at a size. */
interface ResultRow {
  ranking: string;
  size: number | null;
  metrics: Metrics;
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  const kern = getKernels();
  const fullConfig = loadRunConfig(opts.fullRun);
  const dataDir = opts.data ?? (fullConfig.dataset.kind === 'p5' ? fullConfig.dataset.path : null);
  if (!dataDir) throw new UserError(`${opts.fullRun} was trained on generated data; give --data <P5 folder>`);
  const original = dropShortUsers(readP5Dataset(dataDir, fullConfig.dataset.kind === 'p5' ? fullConfig.dataset.name : undefined)).dataset;
  const count = Math.max(1, Math.round(opts.fraction * original.numItems));
  const heldOut = heldOutItems(original.numItems, count, opts.seed);
  const heldOutSet = new Set(heldOut);
  const name = `${original.name}-coldstart-s${opts.seed}`;
  const work = opts.work ?? path.join(ROOT, 'runs', name);
  fs.mkdirSync(work, { recursive: true });
  log(
    `${original.name}: ${original.numItems} items, ${original.sequences.length} users; holding out ${count} items (${(100 * opts.fraction).toFixed(1)}%, seed ${opts.seed}); work folder ${work}`,
  );

  // 2. The dataset without them.
  const reduced = withoutItems(original, heldOutSet, name);
  const reducedDir = path.join(work, 'data', name);
  writeP5Dataset(reduced, reducedDir);
  const removed = original.sequences.reduce((s, seq) => s + seq.filter((i) => heldOutSet.has(i)).length, 0);
  log(`${name}: ${removed} interactions removed, ${original.sequences.length - reduced.sequences.length} users left with none; written to ${reducedDir}`);

  // 3. Train with the full run's recipe (or reuse a finished run).
  const runDir = path.join(work, 'run');
  const config: RunConfig = {
    ...fullConfig,
    dataset: { kind: 'p5', path: path.resolve(reducedDir), name },
    train: opts.epochs === null ? fullConfig.train : { ...fullConfig.train, epochs: opts.epochs },
  };
  const jobs = { kern, progress: process.stderr.isTTY, log };
  if (fs.existsSync(path.join(runDir, 'metrics.json'))) {
    log(`${runDir}: finished run found, reused (delete it to train again)`);
  } else {
    fs.mkdirSync(runDir, { recursive: true });
    await trainRun(config, runDir, { ...jobs, resume: fs.existsSync(path.join(runDir, CHECKPOINT_FILE)), command: 'npm run bench -- coldstart' });
  }

  // 4. Export both models; add the held-out items to the cold-start one.
  const coldDir = path.join(work, 'model');
  exportAllSizes(exportSourceOf(await loadTrainedRun(runDir, jobs)), coldDir, { force: true });
  const toAdd: ItemToAdd[] = heldOut.map((i) => ({ asin: original.itemIds[i], info: { ...(original.items[i] ?? {}), asin: original.itemIds[i] } }));
  const added = await addItemsToModelFolder(coldDir, toAdd);
  const unknown = added.unknownAttributes.reduce((a, b) => a + b, 0);
  log(`${coldDir}: ${added.added.length} items added (${unknown} of their attribute values unknown to the model)`);
  const fullDir = path.join(work, 'full-model');
  exportAllSizes(exportSourceOf(await loadTrainedRun(opts.fullRun, jobs)), fullDir, { force: true });

  // 5. The test users whose target is held out.
  const histories: string[][] = [];
  const targets: string[] = [];
  const counts = new Map<string, number>();
  for (const seq of original.sequences) {
    for (let p = 0; p < seq.length - 1; p++) counts.set(original.itemIds[seq[p]], (counts.get(original.itemIds[seq[p]]) ?? 0) + 1);
    if (!heldOutSet.has(seq[seq.length - 1])) continue;
    histories.push(Array.from(seq.subarray(0, seq.length - 1), (i) => original.itemIds[i]));
    targets.push(original.itemIds[seq[seq.length - 1]]);
  }
  for (let i = 1; i <= original.numItems; i++) if (!counts.has(original.itemIds[i])) counts.set(original.itemIds[i], 0);
  if (targets.length === 0) throw new UserError('no test user has a held-out target: hold out more items (--fraction)');
  const rows: ResultRow[] = [];
  const byModel = (label: string, dir: string) => {
    const model = loadModelFolder(dir, serviceKernels(kern));
    const perSize = metricsFromRanks(modelRanks(model, histories, targets), targets.length, model.engine.sizes.length);
    model.engine.sizes.forEach((m, k) => rows.push({ ranking: label, size: m, metrics: perSize[k] }));
  };
  byModel('held-out items added after training (no ID vector)', coldDir);
  byModel(`trained with every item (${opts.fullRun})`, fullDir);
  rows.push({
    ranking: 'popularity (counts over the full data)',
    size: null,
    metrics: metricsFromRanks(popularityRanks(counts, targets), targets.length, 1)[0],
  });

  const command = `npm run bench -- coldstart ${process.argv
    .slice(2)
    .filter((a) => a !== 'coldstart')
    .join(' ')}`.trim();
  console.log(
    `\n${original.name}: ${count} of ${original.numItems} items held out of training (seed ${opts.seed}), added afterwards; ` +
      `${targets.length} test users whose target is one of them (full ranking over ${original.numItems} items, history kept). Features ${fullConfig.features.text ?? 'none'}` +
      `${fullConfig.features.attributes ? '+attr' : ''}${fullConfig.features.titleWords ? '+words' : ''}${fullConfig.features.itemIds ? '+id' : ''}, ` +
      `${config.train.epochs} planned epochs.\n\n\`${command}\`\n`,
  );
  console.log(
    table(
      ['ranking', 'size', 'Recall@10', 'NDCG@10'],
      rows.map((r) => [r.ranking, r.size ?? '–', r.metrics['Recall@10'].toFixed(4), r.metrics['NDCG@10'].toFixed(4)]),
    ),
  );
  if (opts.json) {
    fs.writeFileSync(
      opts.json,
      JSON.stringify(
        {
          command,
          dataset: original.name,
          items: original.numItems,
          heldOut: count,
          seed: opts.seed,
          fraction: opts.fraction,
          users: targets.length,
          unknownAttributes: unknown,
          cutoffs: CUTOFFS,
          rows,
        },
        null,
        2,
      ) + '\n',
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench coldstart: ${err instanceof UserError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
