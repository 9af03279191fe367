/** `fmrlrec data amazon`: raw Amazon 2014 files → a dataset folder in the P5 layout. */
import { AMAZON_2014_BASE_URL, type MalformedPolicy } from '../data/amazon';
import { ingestAmazon } from '../data/amazon-ingest';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import { CliContext } from './context';

/** `fmrlrec data --help`. */
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
  category: { type: 'string' },
  out: { type: 'string' },
  raw: { type: 'string' },
  offline: { type: 'boolean' },
  'source-url': { type: 'string' },
  'min-count': { type: 'string' },
  'on-malformed': { type: 'string' },
  name: { type: 'string' },
};

/** Run `fmrlrec data <source>` (only `amazon` so far). */
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
  const policy = (values['on-malformed'] ?? 'skip') as string;
  if (policy !== 'skip' && policy !== 'fail') throw new UserError(`--on-malformed must be skip or fail (got "${policy}")`);
  const minCount = numberFlag(values, 'min-count', 5, { min: 0, integer: true });
  const result = await ingestAmazon({
    category,
    out,
    minCount,
    onMalformed: policy as MalformedPolicy,
    download: !values.offline,
    rawDir: typeof values.raw === 'string' ? values.raw : undefined,
    sourceUrl: typeof values['source-url'] === 'string' ? values['source-url'] : undefined,
    name: typeof values.name === 'string' ? values.name : undefined,
    log: (line) => ctx.log(line),
  });
  const { dataset, malformed } = result;
  ctx.out(
    `Wrote ${out}: ${dataset.sequences.length} users, ${dataset.numItems} items, ` +
      `${result.interactions} interactions (${result.reviewsRead} reviews read, ${minCount}-core)`,
  );
  if (malformed.length > 0) {
    ctx.out(
      `Skipped ${malformed.length} malformed line(s), listed in ${result.reportFile}; first: ` +
        `${malformed[0].file}:${malformed[0].line}: ${malformed[0].problem}`,
    );
  }
  if (result.itemsWithoutMeta.length > 0) ctx.out(`${result.itemsWithoutMeta.length} item(s) have no metadata line`);
  return 0;
}
