/** `fmrlrec serve`: the recommendation HTTP service over an exported model. */
import { RecommendServer, DEFAULT_SERVER_OPTIONS } from '../serve/http-server';
import { BearerToken, CorsPolicy } from '../serve/http-guard';
import { loadModelFolder } from '../serve/model-folder';
import { serviceKernels } from '../serve/native-kernels';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import type { CliContext } from './context';

/** `fmrlrec serve --help`. */
export const SERVE_HELP = `Usage: fmrlrec serve --model <dir> [--host 127.0.0.1] [--port 8080]

Serves an exported model over HTTP (JSON; see docs/serving.md):
  POST /v1/recommend   {"history": [...], "k": 10, "size": 64, "exclude_history": false,
                        "candidates": [...], "funnel": {"size": 16, "shortlist": 200}}
                       -> {"size": 64, "items": [{"id", "asin", "title", "score"}, ...]}
  GET  /v1/items/:id   an item by id or ASIN
  GET  /healthz        liveness
  GET  /metrics        Prometheus text format
  GET  /openapi.json   the OpenAPI 3.1 document of every route
A folder exported with --size all serves every size, chosen per request.
SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit.

  --model <dir>       folder made by "fmrlrec export"                      (required)
  --host <addr>       address to listen on                      (default ${DEFAULT_SERVER_OPTIONS.host})
  --port <n>          port (0 picks a free one)                  (default ${DEFAULT_SERVER_OPTIONS.port})
  --max-body <bytes>  largest request body                       (default ${DEFAULT_SERVER_OPTIONS.maxBodyBytes})
  --threads <n>       kernel threads for batched products                       (default 1)
  --token <secret>    bearer token that write requests (every POST but /v1/recommend) need;
                      prefer the environment variable FMRLREC_TOKEN (a flag shows in ps)
  --cors <origins>    let browsers on these origins call: https://a.example,http://localhost:3000 or *
  --quiet             no access log (default: one JSON line per request on stdout:
                      {"ts", "method", "route", "status", "bytes", "ms"})
`;

const OPTIONS: OptionSpec = {
  model: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, 'max-body': { type: 'string' }, threads: { type: 'string' },
  token: { type: 'string' }, cors: { type: 'string' }, quiet: { type: 'boolean' },
};

/** Run `fmrlrec serve`. */
export async function serveCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('serve', argv, OPTIONS);
  if (v.help) { ctx.out(SERVE_HELP); return 0; }
  const kern = ctx.configureKernels((v.threads as string | undefined) ?? '1');
  const model = loadModelFolder(requireString(v, 'model', 'serve'), serviceKernels(kern));
  const host = (v.host as string | undefined) ?? DEFAULT_SERVER_OPTIONS.host;
  if (host === '') throw new UserError('--host must not be empty');
  const server = new RecommendServer(model, {
    ...DEFAULT_SERVER_OPTIONS, host,
    port: numberFlag(v, 'port', DEFAULT_SERVER_OPTIONS.port, { min: 0, max: 65535, integer: true }),
    maxBodyBytes: numberFlag(v, 'max-body', DEFAULT_SERVER_OPTIONS.maxBodyBytes, { min: 64, integer: true }),
    ...guardOptions(v, ctx),
  });
  const address = await server.listen();
  const { engine, config } = model;
  ctx.log(`serving ${config.dataset} (${engine.numItems} items, sizes ${engine.sizes.join(', ')}; kernels ${kern.name} x${kern.threads()}) on http://${address.address}:${address.port}`);
  ctx.log(guardSummary(v));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      ctx.log(`${signal}: finishing requests in flight`);
      server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  ctx.log('stopped');
  return 0;
}

/** Token, CORS and access log options of the flags (--token or FMRLREC_TOKEN, --cors, --quiet). */
function guardOptions(v: Record<string, string | boolean | undefined>, ctx: CliContext) {
  if (v.token === '') throw new UserError('--token must not be empty');
  const source = v.token !== undefined ? '--token' : 'FMRLREC_TOKEN';
  const secret = (v.token as string | undefined) ?? (process.env.FMRLREC_TOKEN || undefined);
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
function guardSummary(v: Record<string, string | boolean | undefined>): string {
  const writes = v.token !== undefined || process.env.FMRLREC_TOKEN ? 'writes need the bearer token' : 'writes are open (no --token or FMRLREC_TOKEN)';
  const cors = v.cors === undefined ? 'no CORS' : `CORS for ${v.cors}`;
  return `${writes}; ${cors}; access log ${v.quiet ? 'off' : 'on stdout'}`;
}
