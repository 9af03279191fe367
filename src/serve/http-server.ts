/**
 * The recommendation HTTP service (node:http, JSON):
 *   POST /v1/recommend  {history, k?, size?, exclude_history?, candidates?, funnel?}
 *                       → {"size", "items": [{id, asin, title, score}], "unknown"?}
 *   GET  /v1/items/:id  an item by id or ASIN → {id, asin, title}
 *   GET  /healthz       {"status": "ok", ...} (503 "draining" while shutting down)
 *   GET  /metrics       Prometheus text format
 *   GET  /openapi.json  the OpenAPI document of every route (./openapi.ts)
 *   POST /v1/events, GET /v1/users/:id/recommendations  with a store (./live.ts)
 *   POST /v1/items      add items without retraining, with a store (./live-items.ts)
 * Errors are JSON {"error": message, "field": name}: 400 for a bad request
 * (naming the field), 401 for a write without the token (./http-guard.ts),
 * 404, 405, 413 for a body over the limit, 503 (with Retry-After) when the
 * store fails. CORS preflights get 204; each
 * request can be written to an access log. Recommend
 * requests that arrive together are answered as one batch (./batcher.ts).
 * `close()` stops accepting connections, lets requests in flight finish, then resolves.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../util/errors';
import { StoreError } from '../store/sql-client';
import { ServiceMetrics } from './metrics';
import type { LoadedModel } from './model-folder';
import { RequestBatcher } from './batcher';
import { DEFAULT_LIMITS, parseRecommendRequest, recommendBatch, RequestError, RequestLimits } from './recommender';
import { accessLogLine, BearerToken, CorsPolicy, isWriteRequest } from './http-guard';
import { openApiDocument } from './openapi';
import type { LiveService } from './live';
import type { LiveItems } from './live-items';

/** How the HTTP service listens, what it accepts, and which optional routes and guards it has. */
export interface ServerOptions {
  host: string;
  port: number;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Limits on one request's contents. */
  limits: RequestLimits;
  /** How long `close()` waits for requests in flight before cutting connections. */
  drainTimeoutMs: number;
  /** The token write requests need (null: writes are open). */
  token: BearerToken | null;
  /** Browser origins allowed to call (null: no CORS headers, no preflight answers). */
  cors: CorsPolicy | null;
  /** Where each request's access log line goes (null: no access log). */
  accessLog: ((line: string) => void) | null;
  /** The routes over a store (POST /v1/events, GET /v1/users/:id/recommendations); absent: the service is stateless. */
  live?: LiveService;
  /** POST /v1/items and the added items of every replica (with a store); absent: not served. */
  items?: LiveItems;
}

/** Port 8080 on 127.0.0.1, 64 KiB bodies, the default request limits, 10 s drain; no token, no CORS, no access log, no store. */
export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 64 * 1024,
  limits: DEFAULT_LIMITS,
  drainTimeoutMs: 10_000,
  token: null,
  cors: null,
  accessLog: null,
};

/** An HTTP error with a JSON body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The HTTP service over one exported model: `listen()` to start, `close()` to drain and stop (routes in the comment above). */
export class RecommendServer {
  readonly metrics: ServiceMetrics;
  private readonly server: http.Server;
  private readonly batcher: RequestBatcher;
  private draining = false;
  private closing: Promise<void> | null = null;
  /** The OpenAPI document served at /openapi.json. */
  private readonly openApi: object;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: ServerOptions = DEFAULT_SERVER_OPTIONS,
  ) {
    this.metrics = new ServiceMetrics({
      dataset: model.config.dataset,
      sizes: model.engine.sizes.join(','),
      items: String(model.engine.numItems),
    });
    this.openApi = openApiDocument({
      sizes: model.engine.sizes,
      limits: options.limits,
      maxBodyBytes: options.maxBodyBytes,
      live: options.live?.options ?? null,
      items: options.items?.options ?? null,
    });
    this.batcher = new RequestBatcher((requests) => recommendBatch(model.engine, model.catalogue, requests));
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new UserError(`${this.options.host}:${this.options.port} is already in use`, 'address-in-use')
            : err.code === 'EACCES'
              ? new UserError(`not allowed to listen on ${this.options.host}:${this.options.port}`, 'listen-not-allowed')
              : err,
        );
      };
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stop accepting, let requests in flight finish (up to drainTimeoutMs), then resolve. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.draining = true;
    this.closing = new Promise((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), this.options.drainTimeoutMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = process.hrtime.bigint();
    this.metrics.inFlight++;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      url = new URL('http://localhost/');
    }
    const route = routeName(url.pathname);
    const method = req.method ?? 'GET';
    const { cors, token, accessLog } = this.options;
    let finished = false;
    const finish = (status: number, body: string, type = JSON_TYPE, headers: Record<string, string> = {}) => {
      if (finished) return;
      finished = true;
      const bytes = Buffer.byteLength(body);
      const head: Record<string, string | number> = status === 204 ? {} : { 'Content-Type': type, 'Content-Length': bytes };
      Object.assign(head, cors?.responseHeaders(req.headers.origin), headers);
      if (this.draining) head.Connection = 'close';
      res.writeHead(status, head);
      res.end(body);
      this.metrics.inFlight--;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.observe(route, status, seconds);
      accessLog?.(accessLogLine({ ts: new Date().toISOString(), method, route, status, bytes, ms: seconds * 1000 }));
      if (this.draining) this.server.closeIdleConnections();
    };
    const fail = (err: unknown) => {
      if (err instanceof HttpError) {
        finish(err.status, JSON.stringify({ error: err.message, field: err.field }), JSON_TYPE, err.headers);
      } else if (err instanceof RequestError) {
        finish(err.status, JSON.stringify({ error: err.message, field: err.field }));
      } else if (err instanceof StoreError) {
        finish(503, JSON.stringify({ error: `the store is unavailable; try again (${err.message})`, field: null }), JSON_TYPE, { 'Retry-After': '1' });
        process.stderr.write(`fmrlrec serve: store error: ${err.message}\n`);
      } else {
        finish(500, JSON.stringify({ error: 'internal error', field: null }));
        process.stderr.write(`fmrlrec serve: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      }
    };
    if (cors && CorsPolicy.isPreflight(method, req.headers)) {
      finish(204, '', JSON_TYPE, cors.preflightHeaders(req.headers.origin));
      return;
    }
    if (token && isWriteRequest(method, url.pathname) && !token.accepts(req.headers.authorization)) {
      const given = req.headers.authorization !== undefined;
      fail(
        new HttpError(401, given ? 'the bearer token is not valid' : 'this request changes data: send "Authorization: Bearer <token>"', null, {
          'WWW-Authenticate': given ? 'Bearer realm="fmrlrec", error="invalid_token"' : 'Bearer realm="fmrlrec"',
          Connection: 'close',
        }),
      );
      return;
    }
    this.route(req, url, route).then((body) => finish(200, body.text, body.type), fail);
  }

  private async route(req: http.IncomingMessage, url: URL, route: string): Promise<{ text: string; type: string }> {
    const { engine, catalogue, config } = this.model;
    const method = req.method ?? 'GET';
    const json = (value: unknown) => ({ text: JSON.stringify(value), type: JSON_TYPE });
    const allow = (methods: string) => {
      if (!methods.split(', ').includes(method))
        throw new HttpError(405, `${method} is not allowed on ${url.pathname} (allowed: ${methods})`, null, { Allow: methods });
    };
    switch (route) {
      case '/v1/recommend': {
        allow('POST');
        const body = await readJsonBody(req, this.options.maxBodyBytes);
        const answer = await this.batcher.submit(parseRecommendRequest(body, engine, this.options.limits));
        if (answer.unknown) this.metrics.addUnknownItems((answer.unknown.history?.length ?? 0) + (answer.unknown.candidates?.length ?? 0));
        return json(answer);
      }
      case '/v1/items/:id': {
        allow('GET, HEAD');
        let ref: string;
        try {
          ref = decodeURIComponent(url.pathname.slice('/v1/items/'.length));
        } catch {
          throw new HttpError(400, `the item in ${url.pathname} is not valid percent-encoding`, 'id');
        }
        let id = catalogue.resolve(ref);
        if (id === null && this.options.items) {
          // Added by another replica? (A poll running meanwhile may be the one that learns it, so look again whatever sync() counts.)
          await this.options.items.sync();
          id = catalogue.resolve(ref);
        }
        if (id === null) throw new HttpError(404, `no item "${ref}" (give an id 1..${engine.numItems} or an ASIN)`, 'id');
        return json(catalogue.item(id));
      }
      case '/healthz':
        allow('GET, HEAD');
        if (this.draining) throw new HttpError(503, 'draining', null);
        return json({ status: 'ok', dataset: config.dataset, sizes: engine.sizes, items: engine.numItems });
      case '/metrics':
        allow('GET');
        return { text: this.metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' };
      case '/openapi.json':
        allow('GET, HEAD');
        return json(this.openApi);
      case '/v1/events':
      case '/v1/users/:id/recommendations': {
        const live = this.options.live;
        if (!live) throw this.noRoute(url.pathname);
        if (route === '/v1/events') {
          allow('POST');
          return json(await live.addEvents(await readJsonBody(req, live.options.maxBodyBytes)));
        }
        allow('GET');
        return json(await live.recommendForUser(url.pathname.split('/')[3], url.searchParams));
      }
      case '/v1/items': {
        const items = this.options.items;
        if (!items) throw this.noRoute(url.pathname);
        allow('POST');
        return json(await items.add(await readJsonBody(req, items.options.maxBodyBytes)));
      }
      default:
        throw this.noRoute(url.pathname);
    }
  }

  /** 404 listing the routes served (the live ones only with a store). */
  private noRoute(pathname: string): HttpError {
    const live = (this.options.live ? 'POST /v1/events, GET /v1/users/:id/recommendations, ' : '') + (this.options.items ? 'POST /v1/items, ' : '');
    return new HttpError(
      404,
      `no route ${pathname} (routes: POST /v1/recommend, GET /v1/items/:id, ${live}GET /healthz, GET /metrics, GET /openapi.json)`,
      null,
    );
  }
}

/** The route a path belongs to (also the metrics label); "other" for no route. */
function routeName(pathname: string): string {
  if (pathname.startsWith('/v1/items/') && pathname.length > '/v1/items/'.length) return '/v1/items/:id';
  if (/^\/v1\/users\/[^/]+\/recommendations$/.test(pathname)) return '/v1/users/:id/recommendations';
  if (pathname === '/v1/events' || pathname === '/v1/items') return pathname;
  if (pathname === '/v1/recommend' || pathname === '/healthz' || pathname === '/metrics' || pathname === '/openapi.json') return pathname;
  return 'other';
}

/** Read and parse a JSON body of at most maxBytes (413 beyond, 400 when not JSON). */
function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `the body is larger than ${maxBytes} bytes`, 'body', { Connection: 'close' });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        reject(new HttpError(400, 'the body is empty; send a JSON object such as {"history": ["B004756YJA"], "k": 10}', 'body'));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `the body is not valid JSON (${(err as Error).message})`, 'body'));
      }
    });
    req.on('error', reject);
  });
}
