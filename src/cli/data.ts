/** `fmrlrec data amazon`: raw Amazon 2014 files → a dataset folder in the P5 layout. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AMAZON_2014_BASE_URL,
  amazonFileNames,
  downloadFile,
  missingRawFilesMessage,
  readAmazonDataset,
  type MalformedPolicy,
} from '../data/amazon';
import { writeP5Dataset } from '../data/p5';
import { datasetStats } from '../data/stats';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import { CliContext } from './context';

export const DATA_HELP = `Usage: fmrlrec data amazon --category <Category> --out <dir> [options]

Builds a dataset folder in the P5 layout (sequential_data.txt, datamaps.json,
item_meta.json with title, price, brand, first category path and image URL)
from the raw Amazon 2014 files reviews_<Category>_5.json.gz and
meta_<Category>.json.gz: 5-core filter, each user's reviews in stable
chronological order. Writes <out>/ingest-report.json with every skipped line.

  --category <name>       Beauty, Sports_and_Outdoors, Toys_and_Games, ...  (required)
  --out <dir>             dataset folder to write                          (required)
  --raw <dir>             folder with the raw files (default <out>/raw); missing
                          files are downloaded there unless --offline
  --offline               never download; say where to put the files instead
  --source-url <url>      where to download from (default ${AMAZON_2014_BASE_URL})
  --min-count <k>         k of the k-core filter                      (default 5)
  --on-malformed <p>      skip (report the line, default) | fail (stop at it)
  --name <name>           dataset name in reports (default: category in lower case)
`;

const OPTIONS: OptionSpec = {
  category: { type: 'string' }, out: { type: 'string' }, raw: { type: 'string' }, offline: { type: 'boolean' },
  'source-url': { type: 'string' }, 'min-count': { type: 'string' }, 'on-malformed': { type: 'string' }, name: { type: 'string' },
};

export async function dataCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [source, ...rest] = argv;
  if (source === undefined || source === '--help' || source === '-h') {
    ctx.out(DATA_HELP);
    return 0;
  }
  if (source !== 'amazon') throw new UserError(`unknown data source "${source}" (known: amazon; see "fmrlrec data --help")`);
  const values = parseCommandArgs('data amazon', rest, OPTIONS);
  if (values.help) {
    ctx.out(DATA_HELP);
    return 0;
  }
  const category = requireString(values, 'category', 'data amazon');
  const out = requireString(values, 'out', 'data amazon');
  const rawDir = typeof values.raw === 'string' ? values.raw : path.join(out, 'raw');
  const policy = (values['on-malformed'] ?? 'skip') as string;
  if (policy !== 'skip' && policy !== 'fail') throw new UserError(`--on-malformed must be skip or fail (got "${policy}")`);
  const minCount = numberFlag(values, 'min-count', 5, { min: 0, integer: true });
  const names = amazonFileNames(category);

  const missing = [names.reviews, names.meta].filter((f) => !fs.existsSync(path.join(rawDir, f)));
  if (missing.length > 0) {
    if (values.offline) throw new UserError(missingRawFilesMessage(category, rawDir));
    const base = (typeof values['source-url'] === 'string' ? values['source-url'] : AMAZON_2014_BASE_URL).replace(/\/+$/, '');
    for (const file of missing) {
      const url = `${base}/${file}`;
      ctx.log(`downloading ${url}`);
      let lastShown = 0;
      try {
        await downloadFile(url, path.join(rawDir, file), {
          onProgress: (received, total) => {
            if (received - lastShown < 16 << 20) return;
            lastShown = received;
            ctx.log(`  ${(received / 2 ** 20).toFixed(0)} MiB${total ? ` of ${(total / 2 ** 20).toFixed(0)} MiB` : ''}`);
          },
        });
      } catch (err) {
        throw new UserError(`could not download ${url} (${(err as Error).message}); ${missingRawFilesMessage(category, rawDir)}`);
      }
    }
  }

  ctx.log(`reading ${path.join(rawDir, names.reviews)} and ${names.meta}`);
  const result = await readAmazonDataset({
    rawDir, category, minCount, onMalformed: policy as MalformedPolicy,
    name: typeof values.name === 'string' ? values.name : undefined,
  });
  writeP5Dataset(result.dataset, out);
  const stats = datasetStats(result.dataset);
  writeJsonAtomic(path.join(out, 'ingest-report.json'), {
    category,
    raw: { reviews: path.join(rawDir, names.reviews), meta: path.join(rawDir, names.meta) },
    min_count: minCount,
    reviews_read: result.reviewsRead,
    users: result.dataset.sequences.length,
    items: result.dataset.numItems,
    interactions: stats.interactions,
    items_without_meta: result.itemsWithoutMeta,
    malformed_lines: result.malformed,
  });
  ctx.out(`Wrote ${out}: ${result.dataset.sequences.length} users, ${result.dataset.numItems} items, ` +
    `${stats.interactions} interactions (${result.reviewsRead} reviews read, ${minCount}-core)`);
  if (result.malformed.length > 0) {
    ctx.out(`Skipped ${result.malformed.length} malformed line(s), listed in ${path.join(out, 'ingest-report.json')}; first: ` +
      `${result.malformed[0].file}:${result.malformed[0].line}: ${result.malformed[0].problem}`);
  }
  if (result.itemsWithoutMeta.length > 0) ctx.out(`${result.itemsWithoutMeta.length} item(s) have no metadata line`);
  return 0;
}
