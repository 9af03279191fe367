/**
 * The OpenAPI contract (src/serve/openapi.ts): the document is well formed,
 * and the real responses of every route, success and error cases, match the
 * served document's schema for their route and status (validated with ajv,
 * JSON Schema 2020-12); bodies and parameters the server accepts are valid
 * for the document, and those it refuses that a schema can tell are invalid.
 * The server's routes and its document's paths must agree, with a store (live
 * routes) and without: a route the server answers but its document lacks, or
 * a documented route it has no route for, fails the test. Every operation of
 * the full document is validated live, except those of NOT_SERVED_YET, which
 * the test's server must answer "no route".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportAllSizes } from '../src/deploy/export';
import { ItemVectorBuilder } from '../src/deploy/new-items';
import { TEMPLATE_VERSION } from '../src/features/template';
import { BearerToken } from '../src/serve/http-guard';
import { DEFAULT_SERVER_OPTIONS, RecommendServer } from '../src/serve/http-server';
import { DEFAULT_LIVE_OPTIONS, LiveOptions, LiveService, modelFingerprint } from '../src/serve/live';
import { DEFAULT_LIVE_ITEMS_OPTIONS, LiveItems } from '../src/serve/live-items';
import { loadModelFolder } from '../src/serve/model-folder';
import { openApiDocument, OpenApiOptions } from '../src/serve/openapi';
import { DEFAULT_LIMITS } from '../src/serve/recommender';
import { openEmbeddedStore } from '../src/store/embedded';
import { StoreError } from '../src/store/sql-client';
import type { LiveStore } from '../src/store/types';
import { UserError } from '../src/util/errors';
import { decodeFloat32Safetensors } from '../src/util/safetensors';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

/**
 * Operations of the full document that the live test's server does not
 * serve, and why. The server's own document must lack them and the server
 * must answer them 404 "no route"; empty this as the test serves them.
 */
const NOT_SERVED_YET = new Map<string, string>([]);

/** Documented responses no request of this test can bring about, and why. */
const NOT_EXERCISED = new Map<string, string>([['GET /healthz 503', 'only while the server drains, when it accepts no new request']]);

const TOKEN = 'test-token-0123456789abcdef';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

const tiny = tinyModel();
const dir = tempDir('openapi');
exportAllSizes(tinySource(tiny), dir);
const model = loadModelFolder(dir);
const asin = (id: number) => model.catalogue.item(id)!.asin;
/** Small limits, so that the limits are reached by small requests. */
const MAX_BODY = 4096;
const LIVE: LiveOptions = { ...DEFAULT_LIVE_OPTIONS, maxEvents: 5, maxBodyBytes: MAX_BODY };
const LIMITS = { ...DEFAULT_LIMITS, maxHistory: 20, maxCandidates: 10 };
const documentOf = (live: LiveOptions | null, items: OpenApiOptions['items']): any =>
  openApiDocument({ sizes: model.engine.sizes, limits: LIMITS, maxBodyBytes: MAX_BODY, live, items });
const ITEMS = { ...DEFAULT_LIVE_ITEMS_OPTIONS, pollMs: null, maxItems: 3, maxBodyBytes: MAX_BODY };
/** The full document: every route. */
const doc = documentOf(LIVE, ITEMS);

/** ajv over the document: any schema in it is reached by its JSON pointer. */
function documentValidator(doc: object) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // The document's own fields are not JSON Schema keywords: declare them so that strict mode accepts the root.
  for (const key of Object.keys(doc)) ajv.addKeyword(key);
  ajv.addSchema(doc, 'openapi.json');
  return (pointer: string[]) => {
    const encoded = pointer.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    const validate = ajv.getSchema(`openapi.json#/${encoded}`);
    assert.ok(validate, `no schema at #/${encoded}`);
    return validate;
  };
}

/** The shape of the OpenAPI 3.1 features this document uses (anything else is refused, so extend this when using more). */
const OPENAPI_SUBSET = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  additionalProperties: false,
  properties: {
    openapi: { const: '3.1.0' },
    jsonSchemaDialect: { type: 'string', format: 'uri' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      additionalProperties: false,
      properties: {
        title: { type: 'string' },
        version: { type: 'string' },
        description: { type: 'string' },
        license: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, identifier: { type: 'string' } } },
      },
    },
    paths: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: { $ref: '#/$defs/pathItem' } },
    components: {
      type: 'object',
      additionalProperties: false,
      properties: {
        schemas: { type: 'object', propertyNames: { pattern: '^[A-Za-z0-9._-]+$' }, additionalProperties: { type: 'object' } },
        securitySchemes: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['type', 'scheme'],
            additionalProperties: false,
            properties: { type: { const: 'http' }, scheme: { type: 'string' }, description: { type: 'string' } },
          },
        },
      },
    },
  },
  $defs: {
    pathItem: { type: 'object', minProperties: 1, propertyNames: { enum: METHODS }, additionalProperties: { $ref: '#/$defs/operation' } },
    operation: {
      type: 'object',
      required: ['operationId', 'summary', 'responses'],
      additionalProperties: false,
      properties: {
        operationId: { type: 'string' },
        summary: { type: 'string' },
        description: { type: 'string' },
        security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
        parameters: { type: 'array', items: { $ref: '#/$defs/parameter' } },
        requestBody: {
          type: 'object',
          required: ['content'],
          additionalProperties: false,
          properties: { required: { type: 'boolean' }, description: { type: 'string' }, content: { $ref: '#/$defs/content' } },
        },
        responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^[1-5][0-9][0-9]$' }, additionalProperties: { $ref: '#/$defs/response' } },
      },
    },
    parameter: {
      type: 'object',
      required: ['name', 'in', 'schema'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        in: { enum: ['path', 'query', 'header', 'cookie'] },
        required: { type: 'boolean' },
        description: { type: 'string' },
        schema: { type: 'object' },
      },
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
    response: {
      type: 'object',
      required: ['description'],
      additionalProperties: false,
      properties: {
        description: { type: 'string' },
        headers: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['schema'],
            additionalProperties: false,
            properties: { required: { type: 'boolean' }, description: { type: 'string' }, schema: { type: 'object' } },
          },
        },
        content: { $ref: '#/$defs/content' },
      },
    },
    content: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z]+/[a-z0-9.+-]+$' },
      additionalProperties: { type: 'object', required: ['schema'], additionalProperties: false, properties: { schema: { type: 'object' } } },
    },
  },
};

/** Every operation of the document: "METHOD /path" → its object. */
function operations(doc: any): Map<string, { path: string; method: string; op: any }> {
  const out = new Map<string, { path: string; method: string; op: any }>();
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) out.set(`${method.toUpperCase()} ${path}`, { path, method, op });
  }
  return out;
}

test('openapi: the document is a well-formed OpenAPI 3.1 document whose schemas all compile', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validStructure = ajv.compile<any>(OPENAPI_SUBSET);
  assert.ok(validStructure(doc), ajv.errorsText(validStructure.errors));

  const schemaAt = documentValidator(doc);
  for (const name of Object.keys(doc.components.schemas)) schemaAt(['components', 'schemas', name]);
  const ids = new Set<string>();
  for (const [key, { path, method, op }] of operations(doc)) {
    assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is repeated`);
    ids.add(op.operationId);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const declared = (op.parameters ?? [])
      .filter((p: any) => p.in === 'path')
      .map((p: any) => p.name)
      .sort();
    assert.deepEqual(declared, templated, `${key}: path parameters`);
    (op.parameters ?? []).forEach((_: unknown, i: number) => schemaAt(['paths', path, method, 'parameters', String(i), 'schema']));
    for (const type of Object.keys(op.requestBody?.content ?? {})) schemaAt(['paths', path, method, 'requestBody', 'content', type, 'schema']);
    assert.ok(
      Object.keys(op.responses).some((s) => s.startsWith('2')),
      `${key} has no success response`,
    );
    for (const [status, response] of Object.entries<any>(op.responses)) {
      for (const type of Object.keys(response.content ?? {})) schemaAt(['paths', path, method, 'responses', status, 'content', type, 'schema']);
    }
    for (const requirement of op.security ?? []) {
      for (const scheme of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[scheme], `${key}: no security scheme "${scheme}"`);
      assert.ok(op.responses['401'], `${key} needs a token but documents no 401`);
    }
  }
});

/** One request of the live test and the status it must get. */
interface Case {
  /** The documented operation, "METHOD /path/{template}". */
  op: string;
  /** The concrete path (with query). */
  path: string;
  /** A JSON value, or a string sent as is. */
  body?: unknown;
  /** Authorization sent: the right token (default), none, or a wrong one. */
  auth?: 'right' | 'none' | 'wrong';
  status: number;
  /** For a 400: the document's schemas (body, path and query parameters) refuse the request too. */
  refusedBySchema?: boolean;
  /** For an error: the field its body must name. */
  field?: string;
  /** Send it while the store fails (every call throws the error of an unreachable database). */
  storeDown?: boolean;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(base: string, method: string, path: string, body?: unknown, auth: Case['auth'] = 'right'): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (auth === 'right') headers.authorization = `Bearer ${TOKEN}`;
  if (auth === 'wrong') headers.authorization = 'Bearer not-the-token';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The requests of the live test (the coverage check makes sure every documented status of every served route is among them). */
function cases(): Case[] {
  const history = Array.from(tiny.dataset.sequences[4]).map(asin);
  const recommend = (body: unknown, status: number, more: Partial<Case> = {}): Case => ({
    op: 'POST /v1/recommend',
    path: '/v1/recommend',
    body,
    status,
    ...more,
  });
  const events = (body: unknown, status: number, more: Partial<Case> = {}): Case => ({ op: 'POST /v1/events', path: '/v1/events', body, status, ...more });
  const forUser = (path: string, status: number, more: Partial<Case> = {}): Case => ({ op: 'GET /v1/users/{id}/recommendations', path, status, ...more });
  const event = (id: string, user: string, item: string, ts?: number | null) => ({ id, user, item, ...(ts === undefined ? {} : { ts }) });
  const items = (body: unknown, status: number, more: Partial<Case> = {}): Case => ({ op: 'POST /v1/items', path: '/v1/items', body, status, ...more });
  const newItem = (asin: string) => ({ asin, title: 'Red soap', brand: 'Lumina', categories: ['Beauty', 'Nail Care'], price: 7.5 });
  const two = { events: [event('e1', 'u-1', asin(3), 1700000000), event('e2', 'u-1', '5')] };
  return [
    recommend({ history, k: 5 }, 200),
    recommend(
      { history: [...history, 'B000NOPE'], k: 3, size: 8, exclude_history: true, candidates: [1, 2, 3, 4, 5, 'B000NONE'], funnel: { size: 4, shortlist: 4 } },
      200,
    ),
    recommend({ history: [], k: 2 }, 200),
    recommend({ history: ['B000NOPE', 9999] }, 200),
    recommend({ history }, 200, { auth: 'none' }),
    recommend({ history, k: 0 }, 400, { refusedBySchema: true, field: 'k' }),
    recommend({ history: Array.from({ length: LIMITS.maxHistory + 1 }, (_, i) => 1 + (i % 40)) }, 400, { refusedBySchema: true, field: 'history' }),
    recommend({ history, candidates: Array.from({ length: LIMITS.maxCandidates + 1 }, (_, i) => i + 1) }, 400, { refusedBySchema: true, field: 'candidates' }),
    recommend({ history, size: 5 }, 400, { refusedBySchema: true }),
    recommend({ history, colour: 'red' }, 400, { refusedBySchema: true }),
    recommend({ k: 3 }, 400, { refusedBySchema: true }),
    recommend({ history: [''] }, 400, { refusedBySchema: true }),
    recommend({ history, funnel: { size: 16, shortlist: 20 }, size: 8 }, 400),
    recommend('{"history": [', 400),
    recommend({ history: Array.from({ length: 1000 }, () => 'B00000000X') }, 413),
    { op: 'GET /v1/items/{id}', path: '/v1/items/3', status: 200 },
    { op: 'GET /v1/items/{id}', path: `/v1/items/${encodeURIComponent(asin(7))}`, status: 200 },
    { op: 'GET /v1/items/{id}', path: '/v1/items/%E0%A4%A', status: 400 },
    { op: 'GET /v1/items/{id}', path: '/v1/items/0', status: 404 },
    events(two, 200),
    events(two, 200),
    events({ events: [event('e3', 'u.2@x', asin(4), null)] }, 200),
    events(two, 401, { auth: 'none' }),
    events(two, 401, { auth: 'wrong' }),
    events({ events: [] }, 400, { refusedBySchema: true }),
    events({ events: [{ ...event('e4', 'u-1', asin(3)), colour: 'red' }] }, 400, { refusedBySchema: true }),
    events({ events: [event('e5', 'two words', asin(3))] }, 400, { refusedBySchema: true }),
    events({ events: Array.from({ length: LIVE.maxEvents + 1 }, (_, i) => event(`e${10 + i}`, 'u-3', asin(1))) }, 400, {
      refusedBySchema: true,
      field: 'events',
    }),
    events({ events: [event('e6', 'u-1', 'B000NOPE')] }, 400),
    events('{"events": [', 400),
    events({ events: [event('e7', 'u-1', 'x'.repeat(MAX_BODY))] }, 413),
    forUser('/v1/users/u-1/recommendations?k=3&size=8&exclude_history=true', 200),
    forUser('/v1/users/nobody/recommendations', 200),
    forUser('/v1/users/u-1/recommendations?k=3&size=16&funnel=4:4', 200),
    forUser('/v1/users/u-1/recommendations?k=0', 400, { refusedBySchema: true }),
    forUser('/v1/users/u-1/recommendations?size=5', 400, { refusedBySchema: true }),
    forUser('/v1/users/u-1/recommendations?exclude_history=yes', 400, { refusedBySchema: true }),
    forUser('/v1/users/u-1/recommendations?colour=red', 400, { refusedBySchema: true }),
    forUser('/v1/users/u-1/recommendations?funnel=16', 400, { refusedBySchema: true }),
    forUser('/v1/users/u-1/recommendations?funnel=5:20', 400),
    forUser('/v1/users/two%20words/recommendations', 400, { refusedBySchema: true }),
    events({ events: [event('e8', 'u-4', asin(2))] }, 503, { storeDown: true }),
    forUser('/v1/users/u-4/recommendations', 503, { storeDown: true }),
    items({ items: [newItem('NEW-1')] }, 503),
    items({ items: [newItem('NEW-1'), { asin: 'NEW-2', price: '$4.50' }] }, 200),
    { op: 'GET /v1/items/{id}', path: '/v1/items/NEW-2', status: 200 },
    items({ items: [newItem('NEW-3')] }, 401, { auth: 'none' }),
    items({ items: [newItem('NEW-3')] }, 401, { auth: 'wrong' }),
    items({ items: [newItem('NEW-3'), newItem('NEW-1')] }, 409),
    items({ items: [newItem('NEW-3'), { asin: asin(2) }] }, 409),
    items({ items: [] }, 400, { refusedBySchema: true }),
    items({ items: [{ asin: 'two words' }] }, 400, { refusedBySchema: true }),
    items({ items: [{ ...newItem('NEW-3'), colour: 'red' }] }, 400, { refusedBySchema: true }),
    items({ items: [{ asin: 'NEW-3', categories: 'Nail' }] }, 400, { refusedBySchema: true }),
    items({ items: ['NEW-3', 'NEW-4', 'NEW-5', 'NEW-6'].map(newItem) }, 400, { refusedBySchema: true, field: 'items' }),
    items({ items: [newItem('NEW-3'), newItem('NEW-3')] }, 400),
    items('{"items": [', 400),
    items({ items: [{ asin: 'NEW-3', title: 'x'.repeat(MAX_BODY) }] }, 413),
    { op: 'GET /healthz', path: '/healthz', status: 200 },
    { op: 'GET /metrics', path: '/metrics', status: 200 },
    { op: 'GET /openapi.json', path: '/openapi.json', status: 200 },
  ];
}

/** The media type of a Content-Type header. */
const mediaType = (header: string | null) => (header ?? '').split(';')[0].trim();

/** A query or path value as its schema's type reads it (the query string spells integers and booleans). */
function parameterValue(text: string, schema: any): unknown {
  if (schema.type === 'integer' && /^-?[0-9]+$/.test(text)) return Number(text);
  if (schema.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/**
 * Whether a request's path and query parameters are valid for the operation:
 * each documented, each valid for its schema, every required one present.
 */
function parametersValid(schemaAt: ReturnType<typeof documentValidator>, path: string, method: string, op: any, concrete: string): boolean {
  const url = new URL(concrete, 'http://localhost');
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const match = new RegExp(`^${path.replace(/\{[^}]+\}/g, '([^/]+)')}$`).exec(url.pathname);
  assert.ok(match, `${url.pathname} does not match ${path}`);
  const given = new Map<string, { in: string; text: string }>();
  for (const [i, name] of names.entries()) {
    try {
      given.set(name, { in: 'path', text: decodeURIComponent(match[i + 1]) });
    } catch {
      return false; // not valid percent-encoding: no value at all
    }
  }
  for (const [name, text] of url.searchParams) given.set(name, { in: 'query', text });
  const parameters: any[] = op.parameters ?? [];
  for (const [name, value] of given) {
    const index = parameters.findIndex((p) => p.name === name && p.in === value.in);
    if (index < 0) return false;
    if (!schemaAt(['paths', path, method, 'parameters', String(index), 'schema'])(parameterValue(value.text, parameters[index].schema))) return false;
  }
  return parameters.every((p) => !p.required || given.has(p.name));
}

/** Serve the tiny model with a store (live routes) and a token; the base URL. */
async function withServers(fn: (live: string, stateless: string, storeDown: (down: boolean) => void) => Promise<void>): Promise<void> {
  const embedded = await openEmbeddedStore(tempDir('openapi-state'), { modelFingerprint: modelFingerprint(model) });
  let down = false;
  const unreachable = () => Promise.reject(new StoreError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })));
  const store: LiveStore = {
    description: embedded.description,
    applyEvents: (events, advance) => (down ? unreachable() : embedded.applyEvents(events, advance)),
    readUser: (id) => (down ? unreachable() : embedded.readUser(id)),
    readHistory: (user) => embedded.readHistory(user),
    readPairCounts: (firsts) => embedded.readPairCounts(firsts),
    addItems: (added, base) => embedded.addItems(added, base),
    itemsBase: () => embedded.itemsBase(),
    itemsAfter: (seq) => embedded.itemsAfter(seq),
    close: () => embedded.close(),
  };
  const options = { ...DEFAULT_SERVER_OPTIONS, port: 0, maxBodyBytes: MAX_BODY, limits: LIMITS, token: new BearerToken(TOKEN) };
  // POST /v1/items with a stand-in text encoder (the tiny model has random features), missing at the first request (503).
  let loads = 0;
  const items = new LiveItems(
    model.engine,
    model.catalogue,
    store,
    async () => {
      if (loads++ === 0) throw new UserError('needs @energetic-ai/embeddings (not installed): npm install @energetic-ai/embeddings');
      const weights = decodeFloat32Safetensors(fs.readFileSync(path.join(dir, 'size-16', 'model.safetensors')), 'model.safetensors');
      const dim = model.config.model.featureDim;
      const encoder = {
        id: 'stand-in',
        dim,
        encode: async (texts: string[]) => Float32Array.from({ length: texts.length * dim }, (_, i) => Math.sin(i + texts[Math.floor(i / dim)].length)),
      };
      return new ItemVectorBuilder(
        { textEncoder: 'stand-in', templateVersion: TEMPLATE_VERSION, featureDim: dim, imageEncoder: null, attributes: null },
        weights,
        encoder,
      );
    },
    ITEMS,
  );
  const live = new RecommendServer(model, { ...options, live: new LiveService(model.engine, model.catalogue, store, LIVE, items), items });
  const stateless = new RecommendServer(model, options);
  try {
    const [a, b] = [await live.listen(), await stateless.listen()];
    await fn(`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`, (value) => (down = value));
  } finally {
    await live.close();
    await stateless.close();
    await store.close();
  }
}

/** The routes a server's 404 answer lists ("METHOD /path/{template}"); its body must be the documented error. */
async function listedRoutes(base: string, errorSchema: (v: unknown) => boolean): Promise<string[]> {
  const none = await send(base, 'GET', '/nothing');
  assert.equal(none.status, 404);
  const body = JSON.parse(none.text);
  assert.ok(errorSchema(body), none.text);
  const listed = /\(routes: ([^)]+)\)/.exec(body.error);
  assert.ok(listed, `the 404 message lists no routes: ${body.error}`);
  return listed[1]
    .split(', ')
    .map((r) => r.replace(/:([A-Za-z_]+)/g, '{$1}'))
    .sort();
}

test('openapi: every served route answers as documented, success and errors; routes and document agree', async (t) => {
  await withServers(async (base, stateless, storeDown) => {
    const served = JSON.parse((await send(base, 'GET', '/openapi.json')).text);
    assert.deepEqual(served, documentOf(LIVE, ITEMS), 'the server with a store serves the document of its routes');
    const ops = operations(served);
    const schemaAt = documentValidator(served);
    const errorSchema = schemaAt(['components', 'schemas', 'Error']);
    const exercised = new Set<string>();

    for (const c of cases()) {
      const entry = ops.get(c.op);
      assert.ok(entry, `${c.op} is not in the document`);
      assert.ok(!NOT_SERVED_YET.has(c.op), `${c.op} is served: remove it from NOT_SERVED_YET`);
      const { path, method, op } = entry;
      const what = `${c.op} (${c.path}${c.body === undefined ? '' : ` ${typeof c.body === 'string' ? c.body : JSON.stringify(c.body).slice(0, 80)}`})`;
      storeDown(c.storeDown === true);
      const answer = await send(base, method.toUpperCase(), c.path, c.body, c.auth);
      storeDown(false);
      assert.equal(answer.status, c.status, `${what}: ${answer.text}`);
      if (c.field !== undefined) assert.equal(JSON.parse(answer.text).field, c.field, `${what}: the field named`);
      const response = op.responses[String(answer.status)];
      assert.ok(response, `${what}: status ${answer.status} is not documented`);
      exercised.add(`${c.op} ${answer.status}`);
      const type = mediaType(answer.headers.get('content-type'));
      assert.ok(response.content?.[type], `${what}: ${type} is not a documented content type of ${answer.status}`);
      const validate = schemaAt(['paths', path, method, 'responses', String(answer.status), 'content', type, 'schema']);
      const body = type === 'application/json' ? JSON.parse(answer.text) : answer.text;
      assert.ok(
        validate(body),
        `${what}: the ${answer.status} body does not match the document: ${JSON.stringify(validate.errors)}\n${answer.text.slice(0, 500)}`,
      );
      for (const [name, header] of Object.entries<any>(response.headers ?? {})) {
        if (header.required) assert.ok(answer.headers.get(name) !== null, `${what}: header ${name} is missing`);
      }
      // The request itself, as the document describes requests.
      let accepted = parametersValid(schemaAt, path, method, op, c.path);
      if (c.body !== undefined && typeof c.body !== 'string' && op.requestBody) {
        accepted = schemaAt(['paths', path, method, 'requestBody', 'content', 'application/json', 'schema'])(c.body) && accepted;
      }
      if (answer.status === 200) assert.ok(accepted, `${what}: the server accepted a request the document refuses`);
      if (c.refusedBySchema) assert.ok(!accepted, `${what}: the document accepts a request the server refuses`);
    }

    // Coverage: every documented status of every served operation was produced.
    for (const [key, { op }] of ops) {
      for (const status of Object.keys(op.responses)) {
        const id = `${key} ${status}`;
        assert.ok(exercised.has(id) || NOT_EXERCISED.has(id), `no request of this test produced ${id}`);
      }
    }

    // The full document's other operations: each is served here, or listed in NOT_SERVED_YET and answered 404 "no route".
    for (const [key, { path, method }] of operations(doc)) {
      if (!NOT_SERVED_YET.has(key)) {
        assert.ok(ops.has(key), `${key} is not served by the test's server: serve it, or list it in NOT_SERVED_YET with the reason`);
        continue;
      }
      assert.ok(!ops.has(key), `${key} is served: remove it from NOT_SERVED_YET and add its cases`);
      const answer = await send(base, method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'), method === 'get' ? undefined : {});
      assert.equal(answer.status, 404, `${key}: the server answers a route its document lacks`);
      assert.match(JSON.parse(answer.text).error, /^no route/);
      t.diagnostic(`not validated live: ${key} (${NOT_SERVED_YET.get(key)})`);
    }
    for (const key of NOT_SERVED_YET.keys()) assert.ok(operations(doc).has(key), `NOT_SERVED_YET lists ${key}, which the document lacks`);

    // Methods: each served path allows exactly its documented methods (HEAD and OPTIONS aside); others get 405 with Allow.
    const paths = new Map<string, string>();
    for (const c of cases()) if (!paths.has(ops.get(c.op)!.path)) paths.set(ops.get(c.op)!.path, c.path.split('?')[0]);
    for (const [path, concrete] of paths) {
      const answer = await send(base, 'DELETE', concrete);
      assert.equal(answer.status, 405, `DELETE ${concrete}`);
      assert.ok(errorSchema(JSON.parse(answer.text)), `DELETE ${concrete}: ${answer.text}`);
      const allowed = (answer.headers.get('allow') ?? '')
        .split(',')
        .map((m) => m.trim().toLowerCase())
        .filter((m) => m !== 'head' && m !== 'options');
      assert.deepEqual(allowed.sort(), Object.keys(served.paths[path]).sort(), `${path}: methods the server allows vs the document`);
    }

    // No route: 404 with the error body, listing exactly the documented, served routes; without a store, the same holds of its own document.
    assert.deepEqual(await listedRoutes(base, errorSchema), [...ops.keys()].sort(), 'routes the server lists vs its document');
    const statelessDoc = JSON.parse((await send(stateless, 'GET', '/openapi.json')).text);
    assert.deepEqual(statelessDoc, documentOf(null, null));
    assert.deepEqual(
      await listedRoutes(stateless, errorSchema),
      [...operations(statelessDoc).keys()].sort(),
      'routes a server without a store lists vs its document',
    );
    for (const key of operations(doc).keys()) {
      if (operations(statelessDoc).has(key)) continue;
      const [method, path] = key.split(' ');
      assert.equal((await send(stateless, method, path.replace(/\{[^}]+\}/g, 'x'), method === 'GET' ? undefined : {})).status, 404, `${key} without a store`);
    }

    // Every route the metrics saw answered with a success names a documented path.
    const metrics = (await send(base, 'GET', '/metrics')).text;
    for (const [, label] of metrics.matchAll(/fmrlrec_requests_total\{route="([^"]+)",status="2[0-9][0-9]"\}/g)) {
      if (label !== 'other') assert.ok(served.paths[label.replace(/:([A-Za-z_]+)/g, '{$1}')], `the server answered route ${label}, which the document lacks`);
    }
    t.diagnostic(`validated live: ${[...exercised].sort().join('; ')}`);
  });
});
