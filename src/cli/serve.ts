/** `fmrlrec serve`: the recommendation HTTP service over an exported model. */
import type { Kernels } from '../kernels/types';
import { RecommendServer, DEFAULT_SERVER_OPTIONS } from '../serve/http-server';
import { BearerToken, CorsPolicy } from '../serve/http-guard';
import { DEFAULT_LIVE_OPTIONS, LiveService, modelFingerprint } from '../serve/live';
import { addedItemsSummary, DEFAULT_LIVE_ITEMS_OPTIONS, LiveItems, servedSizeFolder } from '../serve/live-items';
import { loadItemVectorBuilder } from '../deploy/new-items';
import { LoadedModel, loadModelFolder } from '../serve/model-folder';
import { serviceKernels } from '../serve/native-kernels';
import { DEFAULT_STATE_DIR, openStore, StoreLocation } from '../store';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';
import type { CliEnvironment } from './environment';

/** `fmrlrec serve --help`. */
export const SERVE_HELP = `Usage: fmrlrec serve --model <dir> [--host 127.0.0.1] [--port 8080] [--state <dir> | --store <postgres-url>]

Serves an exported model over HTTP (JSON; see docs/serving.md):
  POST /v1/recommend   {"history": [...], "k": 10, "size": 64, "exclude_history": false,
                        "candidates": [...], "funnel": {"size": 16, "shortlist": 200}}
                       -> {"size": 64, "items": [{"id", "asin", "title", "score"}, ...]}
  GET  /v1/items/:id   an item by id or ASIN
  POST /v1/events      {"events": [{"id": "e1", "user": "A1", "item": "B004756YJA", "ts": 1700000000}, ...]}
                       -> {"applied": 1, "duplicates": 0}, once committed; an id seen before is not applied again
  GET  /v1/users/:id/recommendations?k=10&size=64&exclude_history=true&funnel=16:200
                       -> {"user", "known_user", "history_length", "size", "items": [...]}, from the user's stored state
  POST /v1/items       {"items": [{"asin": "NEW1", "title": "...", "brand": "...", "categories": ["Nail"]}]}
                       -> {"added": [{"asin", "id"}]}: new items, recommendable at once on every replica
  GET  /healthz        liveness
  GET  /metrics        Prometheus text format
  GET  /openapi.json   the OpenAPI 3.1 document of every route
A folder exported with --size all serves every size, chosen per request.
Users' states and events live in a store: by default an embedded one in ./${DEFAULT_STATE_DIR}
(nothing else to run, one process); with --store postgres://... a PostgreSQL database that
any number of replicas share.
SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit.

  --model <dir>       folder made by "fmrlrec export"                      (required)
  --host <addr>       address to listen on                      (default ${DEFAULT_SERVER_OPTIONS.host})
  --port <n>          port (0 picks a free one)                  (default ${DEFAULT_SERVER_OPTIONS.port})
  --max-body <bytes>  largest request body                       (default ${DEFAULT_SERVER_OPTIONS.maxBodyBytes})
  --threads <n>       kernel threads for batched products                       (default 1)
  --state <dir>       the embedded store's folder                   (default ./${DEFAULT_STATE_DIR})
  --store <url>       postgres://user@host:5432/database[?schema=fmrlrec]: the PostgreSQL store
                      (or the environment variable FMRLREC_STORE); "none": no store, no live routes
  --max-events <n>    most events in one POST /v1/events                     (default ${DEFAULT_LIVE_OPTIONS.maxEvents})
  --token <secret>    bearer token that write requests (every POST but /v1/recommend) need;
                      prefer the environment variable FMRLREC_TOKEN (a flag shows in ps)
  --cors <origins>    let browsers on these origins call: https://a.example,http://localhost:3000 or *
  --quiet             no access log (default: one JSON line per request on stdout:
                      {"ts", "method", "route", "status", "bytes", "ms"})
`;

const OPTIONS: OptionSpec = {
  model: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'max-body': { type: 'string' },
  threads: { type: 'string' },
  token: { type: 'string' },
  cors: { type: 'string' },
  quiet: { type: 'boolean' },
  state: { type: 'string' },
  store: { type: 'string' },
  'max-events': { type: 'string' },
};

/** Run `fmrlrec serve`. */
export async function serveCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('serve', argv, OPTIONS);
  if (v.help) {
    ctx.out(SERVE_HELP);
    return 0;
  }
  const kern = ctx.configureKernels((v.threads as string | undefined) ?? '1');
  const model = loadModelFolder(requireString(v, 'model', 'serve'), serviceKernels(kern));
  const host = (v.host as string | undefined) ?? DEFAULT_SERVER_OPTIONS.host;
  if (host === '') throw new UserError('--host must not be empty');
  const maxEvents = numberFlag(v, 'max-events', DEFAULT_LIVE_OPTIONS.maxEvents, { min: 1, max: 100_000, integer: true });
  const location = storeLocation(v, ctx.env);
  const store = location ? await openStore(location, { modelFingerprint: modelFingerprint(model), log: (line) => ctx.log(line) }) : null;
  ctx.log(store ? `store: ${store.description}` : 'no store (--store none): POST /v1/events and GET /v1/users/:id/recommendations are off');
  // Items added while serving; replicas sharing a PostgreSQL store poll it for each other's (src/serve/live-items.ts).
  const items = store
    ? new LiveItems(
        model.engine,
        model.catalogue,
        store,
        () => loadItemVectorBuilder(servedSizeFolder(model), { allowDownload: ctx.env.allowDownload, modelsDir: ctx.env.modelsDir }),
        { ...DEFAULT_LIVE_ITEMS_OPTIONS, pollMs: location?.kind === 'postgres' ? DEFAULT_LIVE_ITEMS_OPTIONS.pollMs : null, log: (line) => ctx.log(line) },
      )
    : undefined;
  try {
    await items?.start();
    await serveUntilSignal(
      v,
      ctx,
      model,
      kern,
      host,
      store ? new LiveService(model.engine, model.catalogue, store, { ...DEFAULT_LIVE_OPTIONS, maxEvents }, items) : undefined,
      items,
    );
  } finally {
    items?.stop();
    await store?.close();
  }
  ctx.log('stopped');
  return 0;
}

/** Where the flags (or FMRLREC_STORE) put the store; null for --store none. */
function storeLocation(v: Record<string, string | boolean | undefined>, env: CliEnvironment): StoreLocation | null {
  const state = v.state as string | undefined;
  const url = (v.store as string | undefined) ?? (state === undefined ? env.store : undefined);
  if (state !== undefined && v.store !== undefined) throw new UserError('give --state <dir> (the embedded store) or --store <postgres-url>, not both');
  if (state === '' || url === '') throw new UserError(`--${state === '' ? 'state' : 'store'} must not be empty`);
  if (url === 'none') return null;
  if (url !== undefined) return { kind: 'postgres', url };
  return { kind: 'embedded', dir: state ?? DEFAULT_STATE_DIR };
}

/** Listen, log what is served, and answer until SIGTERM or SIGINT has drained the requests in flight. */
async function serveUntilSignal(
  v: Record<string, string | boolean | undefined>,
  ctx: CliContext,
  model: LoadedModel,
  kern: Kernels,
  host: string,
  live: LiveService | undefined,
  items: LiveItems | undefined,
): Promise<void> {
  const server = new RecommendServer(model, {
    ...DEFAULT_SERVER_OPTIONS,
    host,
    port: numberFlag(v, 'port', DEFAULT_SERVER_OPTIONS.port, { min: 0, max: 65535, integer: true }),
    maxBodyBytes: numberFlag(v, 'max-body', DEFAULT_SERVER_OPTIONS.maxBodyBytes, { min: 64, integer: true }),
    ...guardOptions(v, ctx),
    live,
    items,
  });
  const address = await server.listen();
  const { engine, config } = model;
  ctx.log(
    `serving ${config.dataset} (${engine.numItems} items, sizes ${engine.sizes.join(', ')}; kernels ${kern.name} x${kern.threads()}) on http://${address.address}:${address.port}`,
  );
  ctx.log(guardSummary(v, ctx.env));
  if (items) ctx.log(addedItemsSummary(model));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      ctx.log(`${signal}: finishing requests in flight`);
      server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** Token, CORS and access log options of the flags (--token or FMRLREC_TOKEN, --cors, --quiet). */
function guardOptions(v: Record<string, string | boolean | undefined>, ctx: CliContext) {
  if (v.token === '') throw new UserError('--token must not be empty');
  const source = v.token !== undefined ? '--token' : 'FMRLREC_TOKEN';
  const secret = (v.token as string | undefined) ?? ctx.env.token;
  let token: BearerToken | null = null;
  if (secret !== undefined) {
    try {
      token = new BearerToken(secret);
    } catch (err) {
      throw new UserError(`${source}: ${(err as Error).message}`);
    }
  }
  return {
    token,
    cors: v.cors === undefined ? null : CorsPolicy.parse(v.cors as string),
    accessLog: v.quiet ? null : (line: string) => ctx.out(line),
  };
}

/** One log line saying who may write and which browsers may call. */
function guardSummary(v: Record<string, string | boolean | undefined>, env: CliEnvironment): string {
  const writes = v.token !== undefined || env.token !== undefined ? 'writes need the bearer token' : 'writes are open (no --token or FMRLREC_TOKEN)';
  const cors = v.cors === undefined ? 'no CORS' : `CORS for ${v.cors}`;
  return `${writes}; ${cors}; access log ${v.quiet ? 'off' : 'on stdout'}`;
}
