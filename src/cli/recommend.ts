/** `fmrlrec recommend`: rank items for a history with an exported model. */
import { loadModelFolder } from '../serve/model-folder';
import { checkRequest, recommend, RecommendRequest, RecommendResponse } from '../serve/recommender';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** The text `fmrlrec recommend --help` prints. */
export const RECOMMEND_HELP = `Usage: fmrlrec recommend --model <dir> --history <items> [options]

Ranks the catalogue for a user's history with an exported model (plain
TypeScript engine, no native code) and prints the best items with their
titles and scores.

  --model <dir>        folder made by "fmrlrec export" (one size, or --size all)  (required)
  --history <items>    the user's items, oldest first, comma-separated ASINs or
                       ids, e.g. B004756YJA,B004ZT0SSG; "" for a user with no
                       history                                                     (required)
  --k <n>              items to print                                  (default 10)
  --size <m>           size to rank with (default: the model's largest)
  --exclude-history    never recommend items of the history
  --candidates <items> rank only these items (comma-separated ASINs or ids)
  --funnel <ms>:<n>    shortlist n items with size ms, rerank them with --size
  --json               print {"size": m, "history_used": n, "items": [{"id", "asin", "title", "score"}, ...]}
                       (the body POST /v1/recommend answers)

Items that name nothing in the catalogue are reported on stderr (and under
"unknown" in --json) and otherwise ignored. "history_used" counts the history
items the model read; when it is 0 (an empty history, or only unknown items)
the answer is the one for a user with no history, and stderr says so.
`;

const OPTIONS: OptionSpec = {
  model: { type: 'string' },
  history: { type: 'string' },
  k: { type: 'string' },
  size: { type: 'string' },
  'exclude-history': { type: 'boolean' },
  candidates: { type: 'string' },
  funnel: { type: 'string' },
  json: { type: 'boolean' },
};

function itemList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseFunnel(value: string): { size: number; shortlist: number } {
  const match = /^([0-9]+):([0-9]+)$/.exec(value.trim());
  if (!match) throw new UserError(`--funnel must be <shortlist size>:<shortlist length>, e.g. 16:200 (got "${value}")`);
  return { size: Number(match[1]), shortlist: Number(match[2]) };
}

/** The answer as a table for people. */
function table(response: RecommendResponse): string {
  const lines = [`size ${response.size}`, `${'rank'.padStart(4)}  ${'id'.padStart(6)}  ${'asin'.padEnd(10)}  ${'score'.padStart(9)}  title`];
  response.items.forEach((item, i) => {
    lines.push(`${String(i + 1).padStart(4)}  ${String(item.id).padStart(6)}  ${item.asin.padEnd(10)}  ${item.score.toFixed(4).padStart(9)}  ${item.title}`);
  });
  return lines.join('\n');
}

/** Run `fmrlrec recommend`: print the best items for a history (a table, or JSON with --json); resolves to the exit code. */
export async function recommendCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('recommend', argv, OPTIONS);
  if (v.help) {
    ctx.out(RECOMMEND_HELP);
    return 0;
  }
  const modelDir = requireString(v, 'model', 'recommend');
  if (typeof v.history !== 'string')
    throw new UserError('--history is required (see "fmrlrec recommend --help"); give --history "" for a user with no history');
  const history = itemList(v.history);
  const { engine, catalogue } = loadModelFolder(modelDir);
  const request: RecommendRequest = {
    history,
    k: numberFlag(v, 'k', 10, { min: 1, integer: true }),
    excludeHistory: Boolean(v['exclude-history']),
  };
  if (v.size !== undefined) request.size = numberFlag(v, 'size', engine.width, { min: 1, integer: true });
  if (v.candidates !== undefined) request.candidates = itemList(v.candidates as string);
  if (v.funnel !== undefined) request.funnel = parseFunnel(v.funnel as string);
  checkRequest(request, engine);
  const response = recommend(engine, catalogue, request);
  if (response.unknown?.history) ctx.log(`not in the catalogue, ignored: ${response.unknown.history.join(', ')}`);
  if (response.unknown?.candidates) ctx.log(`candidates not in the catalogue, ignored: ${response.unknown.candidates.join(', ')}`);
  if (response.history_used === 0) {
    ctx.log(
      `${history.length === 0 ? 'the history is empty' : 'no item of the history is in the catalogue'}: these are the recommendations for a user with no history`,
    );
  }
  ctx.out(v.json ? JSON.stringify(response) : table(response));
  return 0;
}
