/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the same zod schemas the routes
 * validate with (zod's JSON Schema output is the 2020-12 dialect OpenAPI 3.1 uses).
 */
import { z } from 'zod';
import { EventBeaconSchema } from '../shared/contracts/events.ts';
import { RecommendRequestSchema, RecommendResponseSchema } from '../shared/contracts/recommend.ts';
import { ExperimentCreateSchema } from './experiments/definitions.ts';
import { EventIngestResultSchema } from './routes/events.ts';
import { ItemUpsertResultSchema, ItemUpsertSchema } from './routes/items.ts';
import { ID_PATTERN } from '../shared/contracts/ids.ts';
import { MAX_ITEMS_PER_UPSERT } from '../shared/contracts/import.ts';

const schema = (s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const ProblemSchema = z.object({ error: z.string(), reasons: z.array(z.string()).optional() });
const problemResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const jsonResponse = (description: string, ref: string) => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const retryAfter = { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait before retrying' } };

const keyed = [{ bearer: [] }, { apiKey: [] }];
const keyedProblems = { '401': problemResponse('API key missing'), '403': problemResponse('API key not accepted'), '503': { ...problemResponse('Database unavailable'), headers: retryAfter } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64, pattern: '^[\\w.-]+$' } };

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Recommendation origin API', version: '1.0.0', description: 'Two-tower retrieval + DLRM ranking behind the edge. Errors are JSON {error, reasons}.' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      schemas: {
        RecommendRequest: schema(RecommendRequestSchema, 'input'),
        RecommendResponse: schema(RecommendResponseSchema, 'output'),
        EventBatch: schema(EventBeaconSchema, 'input'),
        EventBatchResult: schema(EventIngestResultSchema, 'output'),
        Problem: schema(ProblemSchema, 'output'),
        ExperimentCreate: schema(ExperimentCreateSchema, 'input'),
        ItemUpsert: schema(ItemUpsertSchema, 'input'),
        ItemUpsertResult: schema(ItemUpsertResultSchema, 'output'),
      },
    },
    paths: {
      '/v1/recommend': {
        post: {
          summary: 'Recommendations for a user or an anonymous session',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/RecommendRequest' } } } },
          responses: { '200': jsonResponse('Ranked items; degraded lists any fallback that applied', 'RecommendResponse'), '400': problemResponse('Malformed body (reason given)'), '413': problemResponse('Body too large'), '415': problemResponse('Not JSON'), '429': { ...problemResponse('Rate limited'), headers: retryAfter }, '503': { ...problemResponse('Pipeline unavailable'), headers: retryAfter } },
        },
      },
      '/v1/events': {
        post: {
          summary: 'Ingest a batch of events; idempotent on eventId. A userId is kept only with an API key or a user token for it (X-User-Token or body userToken); otherwise the event is stored as a session event (counted in anonymised)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/EventBatch' } } } },
          responses: { '200': jsonResponse('Counts of newly accepted and duplicate events', 'EventBatchResult'), '400': problemResponse('Malformed body or unknown item ids'), '413': problemResponse('Body too large'), '415': problemResponse('Not JSON'), '429': { ...problemResponse('Rate limited'), headers: retryAfter }, '503': { ...problemResponse('Event store unavailable: retry the same batch'), headers: retryAfter } },
        },
      },
      '/v1/export': {
        get: {
          summary: 'Stream precomputed slates for every user as NDJSON',
          security: [{ bearer: [] }, { apiKey: [] }],
          parameters: [
            { name: 'modelVersion', in: 'query', schema: { type: 'string' } },
            { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
            { name: 'surface', in: 'query', schema: { type: 'string', default: 'home' } },
          ],
          responses: { '200': { description: 'One {"type":"slate",...} line per user, then {"type":"end","users":N}', content: { 'application/x-ndjson': { schema: { type: 'string' } } } }, '400': problemResponse('Invalid query'), '401': problemResponse('API key missing'), '403': problemResponse('API key not accepted'), '404': problemResponse('Unknown model version'), '503': problemResponse('Database unavailable') },
        },
      },
      '/v1/items': {
        put: {
          summary: `Upsert up to ${MAX_ITEMS_PER_UPSERT} catalogue items (import format); invalid rows come back by index, valid ones are stored; idempotent`,
          security: keyed,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ItemUpsert' } } } },
          responses: { '200': jsonResponse('Rows stored and rows rejected (index, id, reasons); in force on every origin at once', 'ItemUpsertResult'), '400': problemResponse('Malformed body, too many items, or no valid item (then with rejected)'), '413': problemResponse('Body too large (BODY_LIMIT_BYTES)'), '415': problemResponse('Not JSON'), ...keyedProblems },
        },
      },
      '/v1/items/{id}': {
        delete: {
          summary: 'Retire an item (stock 0): never recommended again, still in histories',
          security: keyed,
          parameters: [{ ...idParam, schema: { type: 'string', maxLength: 64, pattern: ID_PATTERN.source } }],
          responses: { '200': { description: '{id, retired: true, stock: 0}', content: { 'application/json': { schema: { type: 'object' } } } }, '400': problemResponse('Invalid id'), '404': problemResponse('Unknown item'), ...keyedProblems },
        },
      },
      '/v1/users/{id}': {
        delete: {
          summary: "Erase a user's events, online features and slates",
          security: [{ bearer: [] }, { apiKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
          responses: { '200': { description: 'Erased', content: { 'application/json': { schema: { type: 'object' } } } }, '400': problemResponse('Invalid id'), '401': problemResponse('API key missing'), '403': problemResponse('API key not accepted'), '503': { ...problemResponse('A store is unavailable; retry'), headers: retryAfter } },
        },
      },
      '/v1/experiments': {
        get: { summary: 'Experiments and their status', security: keyed, responses: { '200': { description: '{experiments: [...]}', content: { 'application/json': { schema: { type: 'object' } } } }, ...keyedProblems } },
        post: {
          summary: 'Create an experiment (A/B test, canary, shadow); in force on every origin at once',
          security: keyed,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ExperimentCreate' } } } },
          responses: { '201': { description: 'Created', content: { 'application/json': { schema: { type: 'object' } } } }, '400': problemResponse('Invalid definition (reasons name the field) or a model version that cannot be loaded'), '409': problemResponse('Id exists, or 20 experiments run already'), ...keyedProblems },
        },
      },
      '/v1/experiments/{id}': { get: { summary: 'Definition and log', security: keyed, parameters: [idParam], responses: { '200': { description: '{experiment, log}' }, '404': problemResponse('No such experiment'), ...keyedProblems } } },
      ...Object.fromEntries(['pause', 'resume', 'stop'].map((action) => [`/v1/experiments/{id}/${action}`, { post: { summary: `${action[0]!.toUpperCase()}${action.slice(1)} an experiment (body {reason?} optional)`, security: keyed, parameters: [idParam], responses: { '200': { description: '{experiment}' }, '404': problemResponse('No such experiment'), '409': problemResponse('Not allowed from its status (stopped is final)'), ...keyedProblems } } }])),
      '/v1/experiments/{id}/results': { get: { summary: 'Per-variant metrics, always-valid comparisons (mSPRT), winner, guardrails, shadow, canary evaluation, log', security: keyed, parameters: [idParam], responses: { '200': { description: 'Results', content: { 'application/json': { schema: { type: 'object' } } } }, '404': problemResponse('No such experiment'), ...keyedProblems } } },
      '/v1/experiments/{id}/report': { get: { summary: 'The results as an HTML page with plots (format=html) or text', security: keyed, parameters: [idParam, { name: 'format', in: 'query', schema: { type: 'string', enum: ['html', 'text'], default: 'html' } }], responses: { '200': { description: 'Report', content: { 'text/html': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } } }, '404': problemResponse('No such experiment'), ...keyedProblems } } },
      '/v1/experiments/{id}/evaluate': { post: { summary: 'The canary rule now; apply=true carries out a promotion or rollback', security: keyed, parameters: [idParam, { name: 'apply', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'false' } }], responses: { '200': { description: '{decision: {action, reasons, figures}, applied, experiment}' }, '400': problemResponse('Not a canary'), '409': problemResponse('Canary already stopped'), ...keyedProblems } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Process is up' } } } },
      '/readyz': { get: { summary: 'Readiness (model loaded, database reachable), with the ONNX execution providers serving and the number of model load warnings', responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  };
}
