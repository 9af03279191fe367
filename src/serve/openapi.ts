/**
 * The OpenAPI 3.1 document of the HTTP service (served at GET /openapi.json).
 * Schemas are JSON Schema 2020-12. The document is built for the served model
 * and limits (its sizes, its largest body), and test/openapi.test.ts keeps it
 * true by validating real responses of every route against it.
 */
import type { RequestLimits } from './recommender';

/** What the document depends on. */
export interface OpenApiOptions {
  /** The sizes the model serves. */
  sizes: readonly number[];
  /** Limits on one request's contents. */
  limits: RequestLimits;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

/** The OpenAPI 3.1 document of every route of the service. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const { sizes, limits, maxBodyBytes } = options;
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
  const write = { security: [{ bearer: [] }] };

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'fmrlrec',
      version: '1',
      description: 'Sequential recommendations from an exported fMRLRec model: every size of its ladder is a complete model, chosen per request. '
        + 'Errors are {"error": message, "field": name or null}. A method a route does not allow gets 405 with an Allow header; a path with no route gets 404.',
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
          responses: { 200: { description: 'The OpenAPI document.', content: json({
            type: 'object', required: ['openapi', 'info', 'paths'],
            properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } },
          }) } },
        },
      },
      '/v1/events': {
        post: {
          operationId: 'addEvents',
          summary: 'Record interactions (a write: needs the token when one is set)',
          ...write,
          requestBody: { required: true, content: json(ref('EventsRequest')) },
          responses: {
            200: { description: 'Events applied; an event id seen before is counted as a duplicate and not applied again.', content: json(ref('EventsResponse')) },
            400: badRequest, 401: unauthorized, 413: tooLarge,
          },
        },
      },
      '/v1/users/{id}/recommendations': {
        get: {
          operationId: 'recommendForUser',
          summary: "Recommend items after a user's recorded history",
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The user id of the events.' },
            { name: 'k', in: 'query', schema: k },
            { name: 'size', in: 'query', schema: size },
            { name: 'exclude_history', in: 'query', schema: { type: 'boolean' }, description: "Never return items of the user's history." },
            { name: 'funnel', in: 'query', schema: { type: 'string', pattern: '^[0-9]+:[0-9]+$' }, description: 'The MRL funnel as size:shortlist, e.g. 16:200.' },
          ],
          responses: { 200: { description: 'The best k items.', content: json(ref('UserRecommendations')) }, 400: badRequest },
        },
      },
      '/v1/items': {
        post: {
          operationId: 'addItems',
          summary: 'Add items to the catalogue (a write: needs the token when one is set)',
          ...write,
          requestBody: { required: true, content: json(ref('ItemsRequest')) },
          responses: { 200: { description: 'The ids given to the new items.', content: json(ref('ItemsResponse')) }, 400: badRequest, 401: unauthorized, 413: tooLarge },
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
            history_used: { type: 'integer', minimum: 0, description: 'History items the model read (known ones, its window at most); 0: the answer for a user with no history.' },
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
        EventsRequest: {
          type: 'object',
          required: ['events'],
          additionalProperties: false,
          properties: {
            events: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'user', 'item'],
                additionalProperties: false,
                properties: {
                  id: { type: 'string', description: 'The event id (a retried event is applied once).' },
                  user: { type: 'string' },
                  item: { type: 'string', description: 'An ASIN or an item id.' },
                  ts: { type: 'number', description: 'When it happened (the order of a user\'s history).' },
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
            user: { type: 'string' },
            known_user: { type: 'boolean', description: 'Whether any event of this user was recorded.' },
            history_length: { type: 'integer', minimum: 0 },
            size,
            items: { type: 'array', items: ref('RecommendedItem'), description: 'Best first.' },
          },
        },
        ItemsRequest: {
          type: 'object',
          required: ['items'],
          additionalProperties: false,
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: ['asin'],
                additionalProperties: false,
                properties: {
                  asin: { type: 'string', minLength: 1 },
                  title: { type: 'string' },
                  brand: { type: 'string' },
                  categories: { type: 'array', items: { type: 'string' } },
                  price: { type: 'number' },
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
              items: { type: 'object', required: ['asin', 'id'], additionalProperties: false, properties: { asin: { type: 'string' }, id: { type: 'integer', minimum: 1 } } },
            },
          },
        },
      },
    },
  };
}
