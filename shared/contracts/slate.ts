/**
 * The slate value stored in KV: compact (parallel arrays, short keys), versioned by `f`, validated with zod
 * when read. A slate carries what the edge needs to answer without any other lookup: ids, scores, the
 * static item features and session vectors of the session reranker, reason codes and (since the nightly writes them, optional
 * for older slates) the display cards of its items, so a widget request costs one KV read, not one per item.
 */
import { z } from 'zod';
import { decodeSessionVector, encodeSessionVector } from '../features/session-vectors.ts';

export const SLATE_FORMAT = 1;

/** Display cards of a slate's items, one entry per item in slate order; categories as indices into `cats`. */
export const SlateCardsSchema = z.object({
  t: z.array(z.string()),
  pr: z.array(z.number()),
  img: z.array(z.string()),
  cat: z.array(z.number().int().nonnegative()),
  cats: z.array(z.string()),
  st: z.array(z.number().int()),
});
export type SlateCards = z.infer<typeof SlateCardsSchema>;

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
    /** Session vectors (base64 of SESSION_VECTOR_DIM int8, '' for an item without one), same order; absent in older slates. */
    v: z.array(z.string().max(64)).optional(),
    /** Reason per item as an index into rt. */
    r: z.array(z.number().int()),
    rt: z.array(z.string()),
    /** Item cards (title, price, image, category, stock as of the nightly), same order. */
    d: SlateCardsSchema.optional(),
  })
  .refine((s) => [s.s, s.c, s.b, s.p, s.r, ...(s.v ? [s.v] : [])].every((column) => column.length === s.i.length), {
    message: 'slate columns must all have one entry per item',
  })
  .refine((s) => !s.d || [s.d.t, s.d.pr, s.d.img, s.d.cat, s.d.st].every((column) => column.length === s.i.length), {
    message: 'slate card columns must all have one entry per item',
  });
export type Slate = z.infer<typeof SlateSchema>;

export interface SlateEntry {
  id: string;
  score: number;
  category: number;
  brand: number;
  priceBucket: number;
  vector?: Int8Array | undefined;
  reason: string;
}

/**
 * Encodes a slate. With `cards` (one per entry, same order) the slate carries its display cards; a missing
 * card (undefined) makes the whole slate card-less, so the edge falls back to per-item reads rather than
 * showing an item without its card.
 */
export function encodeSlate(meta: { slateVersion: string; modelVersion: string; at: number }, entries: readonly SlateEntry[], cards?: readonly (ItemCard | undefined)[]): Slate {
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
    ...(entries.some((e) => e.vector) ? { v: entries.map((e) => (e.vector ? encodeSessionVector(e.vector) : '')) } : {}),
    r,
    rt: reasons,
    ...(cards && cards.length === entries.length && cards.every((c) => c !== undefined) ? { d: encodeCards(cards as readonly ItemCard[]) } : {}),
  };
}

function encodeCards(cards: readonly ItemCard[]): SlateCards {
  const cats: string[] = [];
  const catIndex = new Map<string, number>();
  const cat = cards.map((card) => {
    let index = catIndex.get(card.cat);
    if (index === undefined) {
      index = cats.length;
      cats.push(card.cat);
      catIndex.set(card.cat, index);
    }
    return index;
  });
  return { t: cards.map((c) => c.t), pr: cards.map((c) => c.pr), img: cards.map((c) => c.img), cat, cats, st: cards.map((c) => c.st) };
}

/** The cards a slate carries, by item id (features from the slate's own columns); null for card-less slates. */
export function decodeSlateCards(slate: Slate): Map<string, ItemCard> | null {
  const d = slate.d;
  if (!d) return null;
  const out = new Map<string, ItemCard>();
  slate.i.forEach((id, k) => {
    out.set(id, {
      id,
      t: d.t[k] ?? id,
      pr: d.pr[k] ?? 0,
      img: d.img[k] ?? '',
      cat: d.cats[d.cat[k] ?? -1] ?? '',
      f: [slate.c[k] ?? 0, slate.b[k] ?? 0, slate.p[k] ?? 0],
      ...(slate.v?.[k] ? { v: slate.v[k] } : {}),
      st: d.st[k] ?? 0,
    });
  });
  return out;
}

export function decodeSlate(slate: Slate): SlateEntry[] {
  return slate.i.map((id, k) => ({
    id,
    score: slate.s[k] ?? 0,
    category: slate.c[k] ?? 0,
    brand: slate.b[k] ?? 0,
    priceBucket: slate.p[k] ?? 0,
    vector: decodeSessionVector(slate.v?.[k]),
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
  /** Session vector, base64 (shared/features/session-vectors.ts); absent in older cards. */
  v: z.string().max(64).optional(),
  st: z.number().int(),
});
export type ItemCard = z.infer<typeof ItemCardSchema>;
