/**
 * The slate value stored in KV: compact (parallel arrays, short keys), versioned by `f`, validated with zod
 * when read. A slate carries what the edge needs to rerank without any other lookup: ids, scores, the
 * static item features of the session reranker, and reason codes.
 */
import { z } from 'zod';

export const SLATE_FORMAT = 1;

export const SlateSchema = z
  .object({
    f: z.literal(SLATE_FORMAT),
    /** Slate version (KV prefix) and model version that produced it. */
    sv: z.string(),
    mv: z.string(),
    /** Generated at, epoch ms (staleness is judged from this). */
    at: z.number(),
    /** Item ids, best first. */
    i: z.array(z.string()),
    /** Scores (4 decimals), same order. */
    s: z.array(z.number()),
    /** Category, brand and price-bucket indices (feature space), same order. */
    c: z.array(z.number().int()),
    b: z.array(z.number().int()),
    p: z.array(z.number().int()),
    /** Reason per item as an index into rt. */
    r: z.array(z.number().int()),
    rt: z.array(z.string()),
  })
  .refine((s) => [s.s, s.c, s.b, s.p, s.r].every((column) => column.length === s.i.length), {
    message: 'slate columns must all have one entry per item',
  });
export type Slate = z.infer<typeof SlateSchema>;

export interface SlateEntry {
  id: string;
  score: number;
  category: number;
  brand: number;
  priceBucket: number;
  reason: string;
}

export function encodeSlate(meta: { slateVersion: string; modelVersion: string; at: number }, entries: readonly SlateEntry[]): Slate {
  const reasons: string[] = [];
  const reasonIndex = new Map<string, number>();
  const r = entries.map((entry) => {
    let index = reasonIndex.get(entry.reason);
    if (index === undefined) {
      index = reasons.length;
      reasons.push(entry.reason);
      reasonIndex.set(entry.reason, index);
    }
    return index;
  });
  return {
    f: SLATE_FORMAT,
    sv: meta.slateVersion,
    mv: meta.modelVersion,
    at: meta.at,
    i: entries.map((e) => e.id),
    s: entries.map((e) => Math.round(e.score * 1e4) / 1e4),
    c: entries.map((e) => e.category),
    b: entries.map((e) => e.brand),
    p: entries.map((e) => e.priceBucket),
    r,
    rt: reasons,
  };
}

export function decodeSlate(slate: Slate): SlateEntry[] {
  return slate.i.map((id, k) => ({
    id,
    score: slate.s[k] ?? 0,
    category: slate.c[k] ?? 0,
    brand: slate.b[k] ?? 0,
    priceBucket: slate.p[k] ?? 0,
    reason: slate.rt[slate.r[k] ?? -1] ?? '',
  }));
}

/** The slate version pointer (value of SLATE_POINTER_KEY). */
export const SlatePointerSchema = z.object({
  version: z.string(),
  modelVersion: z.string(),
  createdAt: z.number(),
});
export type SlatePointer = z.infer<typeof SlatePointerSchema>;

/** The item card stored at itemCardKey: what the widget shows plus the edge reranker's features. */
export const ItemCardSchema = z.object({
  id: z.string(),
  t: z.string(),
  pr: z.number(),
  img: z.string(),
  cat: z.string(),
  /** [category, brand, price bucket] indices. */
  f: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  st: z.number().int(),
});
export type ItemCard = z.infer<typeof ItemCardSchema>;
