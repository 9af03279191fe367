/** `fmrlrec items add`: add items to an exported model folder without retraining. */
import { splitLines, parseJsonText, readInputText } from '../data/input-files';
import { addItemsToModelFolder } from '../deploy/add-items';
import { ITEM_TO_ADD_FIELDS, ItemToAdd, parseItemToAdd } from '../deploy/new-items';
import { RequestError } from '../serve/recommender';
import { InputFileError, UserError } from '../util/errors';
import { OptionSpec, parseFlags, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec items --help`. */
export const ITEMS_HELP = `Usage: fmrlrec items add --model <dir> --items <file.jsonl> [--json]

Adds items to an exported model folder without retraining (see docs/serving.md,
"New items"). Each item's vector is built the way training built every item's:
its text in the model's template, encoded by the model's own text encoder, then
the learned projection, plus the learned vectors of its brand, categories and
title words that the model knows (values it never saw add nothing); an added
item has no item-ID vector. Every size of the folder gets the items, with ids
N+1, N+2, ... in file order. The folder is replaced as a whole; an item whose
ASIN the folder already has is an error and nothing is added.

  --model <dir>    folder made by "fmrlrec export" (one size, or --size all)   (required)
  --items <file>   JSON lines, one item per line:                             (required)
                   {"asin": "NEW1", "title": "...", "brand": "...", "categories": ["Nail"], "price": 7.5}
                   (asin required; fields: ${ITEM_TO_ADD_FIELDS.join(', ')})
  --json           print {"added": [{"asin", "id"}, ...]} instead of the summary
`;

const OPTIONS: OptionSpec = { model: { type: 'string' }, items: { type: 'string' }, json: { type: 'boolean' } };

/** The items of a JSON-lines file (blank lines skipped), checked line by line. */
export function readItemsFile(file: string): ItemToAdd[] {
  const items: ItemToAdd[] = [];
  const lineOf = new Map<string, number>();
  splitLines(readInputText(file, 'the items to add')).forEach((text, i) => {
    if (text.trim() === '') return;
    const line = i + 1;
    let item: ItemToAdd;
    try {
      item = parseItemToAdd(parseJsonText(text, file, line), '');
    } catch (err) {
      if (err instanceof RequestError) throw new InputFileError(file, line, err.message);
      throw err;
    }
    const earlier = lineOf.get(item.asin);
    if (earlier !== undefined) throw new InputFileError(file, line, `item ${item.asin} is also on line ${earlier}`);
    lineOf.set(item.asin, line);
    items.push(item);
  });
  if (items.length === 0) throw new InputFileError(file, null, 'no items (one JSON object per line)');
  return items;
}

/** Run `fmrlrec items <subcommand>`. */
export async function itemsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parseFlags('fmrlrec items', argv, OPTIONS, true);
  if (v.help) {
    ctx.out(ITEMS_HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'add') {
    throw new UserError(`expected "fmrlrec items add --model <dir> --items <file>" (got "${['items', ...positionals].join(' ')}"; see "fmrlrec items --help")`);
  }
  const dir = requireString(v, 'model', 'items');
  const items = readItemsFile(requireString(v, 'items', 'items'));
  const result = await addItemsToModelFolder(dir, items, { allowDownload: ctx.env.allowDownload, modelsDir: ctx.env.modelsDir });
  if (v.json) {
    ctx.out(JSON.stringify({ added: result.added.map(({ asin, id }) => ({ asin, id })) }));
    return 0;
  }
  const { added } = result;
  ctx.out(
    `added ${added.length} item${added.length === 1 ? '' : 's'} to ${dir} (sizes ${result.sizes.join(', ')}): ids ${added[0].id}..${added[added.length - 1].id}`,
  );
  for (const e of added) ctx.out(`  ${String(e.id).padStart(7)}  ${e.asin}  ${e.title}`);
  const unknown = result.unknownAttributes.reduce((a, b) => a + b, 0);
  if (unknown > 0)
    ctx.log(
      `${unknown} brand, category or title-word value${unknown === 1 ? '' : 's'} of the new items ${unknown === 1 ? 'is' : 'are'} unknown to the model and add${unknown === 1 ? 's' : ''} nothing to their vectors`,
    );
  return 0;
}
