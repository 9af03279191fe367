/**
 * The OpenAPI 3.1 document of the HTTP service (served at GET /openapi.json).
 * Schemas are JSON Schema 2020-12. The document is built for the server it
 * describes: the model's sizes, the limits, and the live routes only when the
 * server has a store. test/openapi.test.ts keeps it true by validating real
 * responses of every route against it.
 */
import { NEW_ASIN_PATTERN } from '../deploy/new-items';
import { LIVE_ID_PATTERN, type LiveOptions } from './live';
import type { LiveItemsOptions } from './live-items';
import type { RequestLimits } from './recommender';

/** What the document depends on. */
export interface OpenApiOptions {
  /** The sizes the model serves. */
  sizes: readonly number[];
  /** Limits on one request's contents. */
  limits: RequestLimits;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** The live routes' limits when the server has a store (POST /v1/events, GET /v1/users/{id}/recommendations); null: none. */
  live: LiveOptions | null;
  /** The limits of POST /v1/items when the server adds items; null: no such route. */
  items: Pick<LiveItemsOptions, 'maxItems' | 'maxBodyBytes'> | null;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

/** The OpenAPI 3.1 document of every route of the service. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const { sizes, limits, maxBodyBytes, live, items } = options;
  const size = { type: 'integer', enum: [...sizes], description: 'A size the model serves.' };
  const k = { type: 'integer', minimum: 1, maximum: limits.maxK, default: 10, description: 'Items to return.' };
  const itemRefs = (max: number, description: string) => ({ type: 'array', maxItems: max, items: ref('ItemRef'), description });
  const badRequest = error('A bad request; `field` names the offending field.');
  const tooLarge = error(`The body is larger than ${maxBodyBytes} bytes.`);
  const unauthorized = {
    description: 'A token is set and the request did not carry it.',
    headers: { 'WWW-Authenticate': { required: true, schema: { type: 'string' }, description: 'Bearer' } },
    content: json(ref('Error')),
  };

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'fmrlrec',
      version: '1',
      description:
        'Sequential recommendations from an exported fMRLRec model: every size of its ladder is a complete model, chosen per request. ' +
        'Errors are {"error": message, "field": name or null}. A method a route does not allow gets 405 with an Allow header; a path with no route gets 404.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: {
      '/v1/recommend': {
        post: {
          operationId: 'recommend',
          summary: 'Recommend items after a history (a read: open even when a token is set)',
          requestBody: { required: true, content: json(ref('RecommendRequest')) },
          responses: { 200: { description: 'The best k items.', content: json(ref('RecommendResponse')) }, 400: badRequest, 413: tooLarge },
        },
      },
      '/v1/items/{id}': {
        get: {
          operationId: 'getItem',
          summary: 'An item by id or ASIN',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'An item id (1..N) or an ASIN.' }],
          responses: {
            200: { description: 'The item.', content: json(ref('Item')) },
            400: error('The id is not valid percent-encoding.'),
            404: error('No item has this id or ASIN.'),
          },
        },
      },
      ...(live ? livePaths(live, size, badRequest, unauthorized) : {}),
      ...(items ? itemsPaths(items.maxBodyBytes, unauthorized) : {}),
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness and what is served',
          responses: { 200: { description: 'Serving.', content: json(ref('Health')) }, 503: error('Shutting down ("draining").') },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format 0.0.4)',
          responses: { 200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          responses: {
            200: {
              description: 'The OpenAPI document.',
              content: json({
                type: 'object',
                required: ['openapi', 'info', 'paths'],
                properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } },
              }),
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The token of `fmrlrec serve --token` (or FMRLREC_TOKEN).' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'field'],
          additionalProperties: false,
          properties: {
            error: { type: 'string', description: 'What is wrong, in one line.' },
            field: { type: ['string', 'null'], description: 'The offending field (e.g. "k", "history[3]", "body"), or null.' },
          },
        },
        ItemRef: {
          description: 'An item: its ASIN (a string) or its id (a number; a string of digits is an id when no ASIN matches).',
          anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'number' }],
        },
        RecommendRequest: {
          type: 'object',
          required: ['history'],
          additionalProperties: false,
          properties: {
            history: itemRefs(limits.maxHistory, "The user's items, oldest first; the model reads the last L."),
            k,
            size: { ...size, description: 'The size to rank with (default: the largest).' },
            exclude_history: { type: 'boolean', default: false, description: 'Never return items of the history.' },
            candidates: itemRefs(limits.maxCandidates, 'Rank only these items.'),
            funnel: ref('Funnel'),
          },
        },
        Funnel: {
          type: 'object',
          description: 'Shortlist with a small size, rerank the shortlist with `size`.',
          required: ['size', 'shortlist'],
          additionalProperties: false,
          properties: { size, shortlist: { type: 'integer', minimum: 1, maximum: limits.maxCandidates } },
        },
        RecommendedItem: {
          type: 'object',
          required: ['id', 'asin', 'title', 'score'],
          additionalProperties: false,
          properties: { id: { type: 'integer', minimum: 1 }, asin: { type: 'string' }, title: { type: 'string' }, score: { type: 'number' } },
        },
        RecommendResponse: {
          type: 'object',
          required: ['size', 'history_used', 'items'],
          additionalProperties: false,
          properties: {
            size,
            history_used: {
              type: 'integer',
              minimum: 0,
              description: 'History items the model read (known ones, its window at most); 0: the answer for a user with no history.',
            },
            items: { type: 'array', items: ref('RecommendedItem'), description: 'Best first.' },
            unknown: {
              type: 'object',
              description: 'References that named no item (present only when some did).',
              additionalProperties: false,
              minProperties: 1,
              properties: { history: { type: 'array', minItems: 1, items: ref('ItemRef') }, candidates: { type: 'array', minItems: 1, items: ref('ItemRef') } },
            },
          },
        },
        Item: {
          type: 'object',
          required: ['id', 'asin', 'title'],
          additionalProperties: false,
          properties: { id: { type: 'integer', minimum: 1 }, asin: { type: 'string' }, title: { type: 'string' } },
        },
        ...(live ? liveSchemas(live, size) : {}),
        ...(items ? itemsSchemas(items.maxItems) : {}),
        Health: {
          type: 'object',
          required: ['status', 'dataset', 'sizes', 'items'],
          additionalProperties: false,
          properties: {
            status: { const: 'ok' },
            dataset: { type: 'string' },
            sizes: { type: 'array', items: { type: 'integer' } },
            items: { type: 'integer', minimum: 0, description: 'Items in the catalogue.' },
          },
        },
      },
    },
  };
}

/** Only the bearer token of `fmrlrec serve --token` opens a write operation (when one is set). */
const WRITE = { security: [{ bearer: [] }] };

/** Event and user ids. */
const LIVE_ID = { type: 'string', pattern: LIVE_ID_PATTERN.source };

/** The live routes (a server with a store). */
function livePaths(live: LiveOptions, size: object, badRequest: object, unauthorized: object): Record<string, unknown> {
  const tooLarge = error(`The body is larger than ${live.maxBodyBytes} bytes.`);
  const storeDown = error(
    'The store failed (e.g. its database is unreachable). Events may or may not be recorded: send the same request again (see Retry-After); event ids make that safe.',
  );
  return {
    '/v1/events': {
      post: {
        operationId: 'addEvents',
        summary: 'Record interactions (a write: needs the token when one is set); answered once committed',
        ...WRITE,
        requestBody: { required: true, content: json(ref('EventsRequest')) },
        responses: {
          200: {
            description: 'Events applied; an event id seen before (or earlier in the request) is a duplicate, not applied again.',
            content: json(ref('EventsResponse')),
          },
          400: error('A bad request (nothing is applied); `field` names the first bad field, e.g. "events[3].item".'),
          401: unauthorized,
          413: tooLarge,
          503: storeDown,
        },
      },
    },
    '/v1/users/{id}/recommendations': {
      get: {
        operationId: 'recommendForUser',
        summary: "Recommend items after a user's recorded events (from the user's stored state)",
        parameters: [
          { name: 'id', in: 'path', required: true, schema: LIVE_ID, description: 'The user id of the events.' },
          { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: live.maxK, default: 10 }, description: 'Items to return.' },
          { name: 'size', in: 'query', schema: size, description: 'The size to rank with (default: the largest).' },
          { name: 'exclude_history', in: 'query', schema: { type: 'boolean', default: false }, description: "Never return items of the user's history." },
          {
            name: 'funnel',
            in: 'query',
            schema: { type: 'string', pattern: '^[0-9]{1,9}:[0-9]{1,9}$' },
            description: `The MRL funnel as size:shortlist, e.g. 16:200: a size of the model up to \`size\`, a shortlist from k to ${live.maxShortlist}.`,
          },
        ],
        responses: {
          200: {
            description: 'The best k items; a user without events gets the empty-history recommendation ("known_user": false).',
            content: json(ref('UserRecommendations')),
          },
          400: badRequest,
          503: storeDown,
        },
      },
    },
  };
}

/** The schemas of the live routes. */
function liveSchemas(live: LiveOptions, size: object): Record<string, unknown> {
  return {
    EventsRequest: {
      type: 'object',
      required: ['events'],
      additionalProperties: false,
      properties: {
        events: {
          type: 'array',
          minItems: 1,
          maxItems: live.maxEvents,
          items: {
            type: 'object',
            required: ['id', 'user', 'item'],
            additionalProperties: false,
            properties: {
              id: { ...LIVE_ID, description: 'The event id: an event sent again with the same id is applied once.' },
              user: { ...LIVE_ID, description: 'The user id.' },
              item: { type: 'string', minLength: 1, maxLength: 128, description: 'An item of the model: its ASIN or its id (digits).' },
              ts: {
                type: ['number', 'null'],
                description: "When it happened (e.g. seconds since 1970); stored, not used for ordering: a user's events apply in commit order.",
              },
            },
          },
        },
      },
    },
    EventsResponse: {
      type: 'object',
      required: ['applied', 'duplicates'],
      additionalProperties: false,
      properties: { applied: { type: 'integer', minimum: 0 }, duplicates: { type: 'integer', minimum: 0 } },
    },
    UserRecommendations: {
      type: 'object',
      required: ['user', 'known_user', 'history_length', 'size', 'items'],
      additionalProperties: false,
      properties: {
        user: LIVE_ID,
        known_user: { type: 'boolean', description: 'Whether any event of this user was recorded.' },
        history_length: { type: 'integer', minimum: 0, description: "Events applied to the user's state." },
        size,
        items: { type: 'array', items: ref('RecommendedItem'), description: 'Best first.' },
      },
    },
  };
}

/** POST /v1/items (a server that adds items). */
function itemsPaths(maxBodyBytes: number, unauthorized: object): Record<string, unknown> {
  return {
    '/v1/items': {
      post: {
        operationId: 'addItems',
        summary: 'Add items to the catalogue (a write: needs the token when one is set)',
        ...WRITE,
        requestBody: { required: true, content: json(ref('ItemsRequest')) },
        responses: {
          200: {
            description: 'The ids given to the new items, in request order; answered once committed. Every replica gives an added item the same id.',
            content: json(ref('ItemsResponse')),
          },
          400: error('A bad request (nothing is added); `field` names the first bad field, e.g. "items[2].price".'),
          401: unauthorized,
          409: error('An ASIN is already in the catalogue (nothing is added); `field` names it, e.g. "items[0].asin".'),
          413: error(`The body is larger than ${maxBodyBytes} bytes.`),
          503: error("This service cannot build item vectors (the model's text encoder is not installed, or the export has no item recipe)."),
        },
      },
    },
  };
}

/** The schemas of POST /v1/items. */
function itemsSchemas(maxItems: number): Record<string, unknown> {
  return {
    ItemsRequest: {
      type: 'object',
      required: ['items'],
      additionalProperties: false,
      properties: {
        items: {
          type: 'array',
          minItems: 1,
          maxItems,
          items: {
            type: 'object',
            required: ['asin'],
            additionalProperties: false,
            properties: {
              asin: {
                type: 'string',
                pattern: NEW_ASIN_PATTERN.source,
                description: 'A new ASIN: 1 to 64 characters, no spaces or control characters; each once per request.',
              },
              title: { type: ['string', 'null'] },
              brand: { type: ['string', 'null'] },
              categories: { type: ['array', 'null'], items: { type: 'string' }, description: 'E.g. ["Makeup", "Nails"].' },
              price: {
                anyOf: [{ type: 'number' }, { type: ['string', 'null'] }],
                description: 'As in the training metadata: a number, or text such as "$12.99".',
              },
            },
          },
        },
      },
    },
    ItemsResponse: {
      type: 'object',
      required: ['added'],
      additionalProperties: false,
      properties: {
        added: {
          type: 'array',
          items: {
            type: 'object',
            required: ['asin', 'id'],
            additionalProperties: false,
            properties: { asin: { type: 'string' }, id: { type: 'integer', minimum: 1, description: 'The next id after the catalogue: N + 1, N + 2, ...' } },
          },
        },
      },
    },
  };
}
