/** The recommend contract: what the widget and API clients send, and what edge and origin answer. */
import { z } from 'zod';
import { PathIdSchema } from './ids.ts';

export const MAX_K = 100;
const id = PathIdSchema;

/** POST /v1/recommend on the origin. Either a user id or an anonymous session id is required. */
export const RecommendRequestSchema = z
  .object({
    userId: id.optional(),
    sessionId: id.optional(),
    surface: z.string().min(1).max(64).regex(/^[\w-]+$/).default('home'),
    k: z.number().int().min(1).max(MAX_K).default(10),
    /** Items the visitor just viewed, oldest → newest (the widget keeps them in localStorage). */
    sessionItemIds: z.array(id).max(50).default([]),
    excludeIds: z.array(id).max(500).default([]),
    segment: z.string().min(1).max(64).optional(),
    context: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()])).default({}),
  })
  .strict()
  .refine((r) => r.userId !== undefined || r.sessionId !== undefined, { message: 'userId or sessionId is required' });
export type RecommendRequest = z.infer<typeof RecommendRequestSchema>;

/** GET /v1/recommendations on the edge (query string form of the same request). */
export const EdgeRecommendQuerySchema = z
  .object({
    user: id.optional(),
    session: id.optional(),
    surface: z.string().min(1).max(64).regex(/^[\w-]+$/).default('home'),
    k: z.coerce.number().int().min(1).max(MAX_K).default(10),
    /** Comma-separated recent item ids, oldest → newest. */
    recent: z
      .string()
      .max(64 * 50)
      .default('')
      .transform((s) => (s === '' ? [] : s.split(',')))
      .pipe(z.array(id).max(50)),
    /** Comma-separated ids never to show (e.g. purchased items the widget remembers). */
    exclude: z
      .string()
      .max(64 * 100)
      .default('')
      .transform((s) => (s === '' ? [] : s.split(',')))
      .pipe(z.array(id).max(100)),
    segment: z.string().min(1).max(64).regex(/^[\w-]+$/).optional(),
  })
  .strict()
  .refine((q) => q.user !== undefined || q.session !== undefined, { message: 'user or session is required' });
export type EdgeRecommendQuery = z.infer<typeof EdgeRecommendQuerySchema>;

export const RecommendedItemSchema = z.object({
  id: z.string(),
  score: z.number(),
  /** A sentence a shopper understands: "Because you viewed X", "Popular in Y", "New for you". */
  reason: z.string(),
  title: z.string().optional(),
  price: z.number().optional(),
  image: z.string().optional(),
  category: z.string().optional(),
});
export type RecommendedItem = z.infer<typeof RecommendedItemSchema>;

/** How the answer was produced; every degraded path is named so it can be counted and seen. */
export const SERVE_PATHS = [
  'kv-slate',
  'kv-segment-slate',
  'kv-popular-slate',
  'origin',
  'stale-slate',
  'popular-fallback',
] as const;

export const RecommendResponseSchema = z.object({
  items: z.array(RecommendedItemSchema),
  modelVersion: z.string(),
  slateVersion: z.string().nullable(),
  servedBy: z.enum(['edge', 'origin']),
  path: z.enum(SERVE_PATHS),
  /** Degradations that applied, e.g. 'redis-unavailable', 'ann-failed', 'origin-timeout', 'rerank-failed'. */
  degraded: z.array(z.string()),
  variant: z.string().nullable(),
  latencyMs: z.number().nonnegative(),
  requestId: z.string(),
});
export type RecommendResponse = z.infer<typeof RecommendResponseSchema>;
