/** The OpenAPI 3.1 description served at GET /docs. A test checks it lists every route the server has. */
import type { ServerLimits } from './context.js';

export interface ApiFacts {
  readonly dim: number;
  readonly modelNames: readonly string[];
  readonly limits: ServerLimits;
  readonly imageUrls: boolean;
  readonly apiKey: boolean;
}

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: error } } });

export function openApiDocument(facts: ApiFacts): Record<string, unknown> {
  const image = {
    type: 'string',
    description: facts.imageUrls ? 'a base64 data URI (data:image/png;base64,…) or an http(s) URL on an allowed host' : 'a base64 data URI (data:image/png;base64,…); image URLs are not enabled on this server',
  };
  const security = facts.apiKey ? [{ bearer: [] }] : [];
  const common = {
    '400': errorResponse('a bad request or bad item; `error.param` names the field, `error.items` every bad item with its limit'),
    ...(facts.apiKey ? { '401': errorResponse('missing or wrong API key') } : {}),
    '413': errorResponse(`body over ${facts.limits.maxRequestBodyBytes} bytes, or over ${facts.limits.maxItemsPerRequest} items`),
    '429': { ...errorResponse(`more than ${facts.limits.maxQueuedItems} inputs queued; retry after Retry-After seconds`), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
    '504': errorResponse(`the request took longer than ${facts.limits.requestTimeoutMs / 1000} s`),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'visualized-bge',
      version: '0.1.0',
      description: `Visualized BGE embeddings of texts, images and image+text pairs (${facts.dim} dimensions, L2-normalised), OpenAI-compatible, and search over an index.`,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'vbge serve --api-key or VBGE_API_KEY' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message', 'type', 'param', 'code'],
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                param: { type: ['string', 'null'] },
                code: { type: ['string', 'null'] },
                items: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, message: { type: 'string' }, limit: { type: 'object' } } } },
              },
            },
          },
        },
        Item: {
          type: 'object',
          description: 'text, image, or both (a composed input: one vector for the image modified by the text)',
          properties: { text: { type: 'string' }, image },
          additionalProperties: false,
        },
        Hit: {
          type: 'object',
          description: 'as `vbge search --json` prints it: id, path, text, score (cosine), then the metadata fields',
          required: ['id', 'score'],
          properties: { id: { type: 'string' }, path: { type: 'string' }, text: { type: 'string' }, score: { type: 'number' } },
          additionalProperties: true,
        },
      },
    },
    paths: {
      '/v1/embeddings': {
        post: {
          summary: 'Embed texts, images and image+text pairs (OpenAI-compatible)',
          security,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['input'],
                  properties: {
                    model: { type: 'string', enum: [...facts.modelNames], default: 'visualized-bge' },
                    input: {
                      oneOf: [
                        { type: 'string' },
                        { type: 'array', maxItems: facts.limits.maxItemsPerRequest, items: { oneOf: [{ type: 'string' }, { $ref: '#/components/schemas/Item' }] } },
                      ],
                    },
                    encoding_format: { type: 'string', enum: ['float', 'base64'], default: 'float', description: 'base64: the float32 values, little-endian' },
                    dimensions: { type: 'integer', enum: [facts.dim], description: 'accepted only when equal to the model\'s length' },
                    truncate: { type: 'boolean', default: false, description: 'cut over-long texts instead of refusing them' },
                    user: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'one embedding per input, in order',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      object: { const: 'list' },
                      data: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            object: { const: 'embedding' },
                            index: { type: 'integer' },
                            embedding: { oneOf: [{ type: 'array', items: { type: 'number' }, minItems: facts.dim, maxItems: facts.dim }, { type: 'string' }] },
                          },
                        },
                      },
                      model: { type: 'string' },
                      usage: { type: 'object', properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
                    },
                  },
                },
              },
            },
            '404': errorResponse('unknown model'),
            ...common,
          },
        },
      },
      '/v1/models': { get: { summary: 'The model names /v1/embeddings accepts', security, responses: { '200': { description: 'OpenAI model list' } } } },
      '/v1/search': {
        post: {
          summary: 'Search the index with a text, an image, both (composed), or an indexed item (more like this)',
          security,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['query'],
                  properties: {
                    query: { oneOf: [{ $ref: '#/components/schemas/Item' }, { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, additionalProperties: false }] },
                    k: { type: 'integer', minimum: 1, default: 10 },
                    offset: { type: 'integer', minimum: 0, default: 0 },
                    where: { type: 'string', description: "a metadata filter, e.g. year >= 2020 AND kind IN ('photo', 'scan')" },
                    ann: { type: 'boolean', default: false },
                    exclude: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'best first; ties by id',
              content: { 'application/json': { schema: { type: 'object', properties: { data: { type: 'array', items: { $ref: '#/components/schemas/Hit' } } } } } },
            },
            '404': errorResponse('no index, or no item with that id'),
            ...common,
          },
        },
      },
      '/v1/items/{id}/image': {
        get: {
          summary: "A thumbnail (WebP, at most 384 px) of an indexed item's image",
          security,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the item id, URL-encoded' }],
          responses: { '200': { description: 'image/webp' }, '404': errorResponse('no such item, or it has no image file') },
        },
      },
      '/health': { get: { summary: 'Ready: the model is loaded and the store answers', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain; version=0.0.4' } } } },
      '/docs': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 JSON' } } } },
      '/': { get: { summary: 'The search page', responses: { '200': { description: 'text/html' } } } },
    },
  };
}
