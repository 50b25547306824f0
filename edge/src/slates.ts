/**
 * Reading slates from KV: the version pointer, then the most specific slate that exists (user → segment →
 * popular), all under the pointer's version so a request never mixes two nightly runs. Every read goes
 * through MeteredKv (counted: Workers KV bills each read).
 *   - the pointer and the pending item changes are kept in isolate memory for `isolateCacheMs`;
 *   - segment and popular slates are shared by many visitors: Cache API with stale-while-revalidate;
 *   - a user's slate is one KV read and carries its items' cards; only cards of recent items outside the slate
 *     (and every card of an older, card-less slate) are read per item, through an isolate cache.
 */
import { ItemChangesSchema, type ItemChanges } from '../../shared/contracts/item-changes.ts';
import { ItemCardSchema, SlatePointerSchema, SlateSchema, type ItemCard, type Slate, type SlatePointer } from '../../shared/contracts/slate.ts';
import { itemCardKey, ITEM_CHANGES_KEY, SLATE_POINTER_KEY, slateKey, type SlateSubject } from '../../shared/kv/keys.ts';
import { IsolateCache } from './isolate-cache.ts';
import type { MeteredKv } from './meter.ts';

/** KV's edge cache for hot keys (seconds): what a read may return after the key changed, per location. */
const POINTER_CACHE_TTL = 60;
const CHANGES_CACHE_TTL = 60;
const SLATE_CACHE_TTL = 300;
/**
 * A user's own slate: KV's minimum (60 s), so an erased user's slate stops being served within about a minute
 * of DELETE /v1/users/:id everywhere (KV's own propagation is "up to 60 s"; docs/security.md), not after 5.
 */
export const USER_SLATE_CACHE_TTL = 60;
/** Cards are immutable within a version (price/stock changes come through ITEM_CHANGES_KEY). */
const CARD_ISOLATE_MS = 10 * 60_000;

const pointerCache = new IsolateCache<SlatePointer>(1);
const changesCache = new IsolateCache<ItemChanges>(1);
/** null: no such card in this version (remembered too, so a stream of unknown ids costs one read each per TTL). */
const cardCache = new IsolateCache<ItemCard | null>(5000);

export async function readPointer(kv: MeteredKv, isolateCacheMs: number, now: number): Promise<SlatePointer | null> {
  const pointer = await pointerCache.getOrLoad('pointer', isolateCacheMs, now, async () => {
    const parsed = SlatePointerSchema.safeParse(await kv.json(SLATE_POINTER_KEY, POINTER_CACHE_TTL));
    return parsed.success ? parsed.data : undefined;
  });
  return pointer ?? null;
}

/** Pending price/stock changes (none when the key is absent or malformed: cards then stand as written). */
export async function readItemChanges(kv: MeteredKv, isolateCacheMs: number, now: number): Promise<ItemChanges> {
  const changes = await changesCache.getOrLoad('changes', isolateCacheMs, now, async () => {
    const raw = await kv.json(ITEM_CHANGES_KEY, CHANGES_CACHE_TTL);
    const parsed = ItemChangesSchema.safeParse(raw);
    if (raw !== null && !parsed.success) console.error(JSON.stringify({ event: 'item-changes-malformed' }));
    return parsed.success ? parsed.data : { f: 1 as const, items: {} };
  });
  return changes ?? { f: 1, items: {} };
}

async function readSlateFromKv(kv: MeteredKv, key: string, cacheTtl = SLATE_CACHE_TTL): Promise<Slate | null> {
  const raw = await kv.json(key, cacheTtl);
  if (raw === null) return null;
  const parsed = SlateSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export interface SharedSlateCache {
  freshMs: number;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Cache API with stale-while-revalidate for shared (segment / popular) slates. */
async function readSharedSlate(kv: MeteredKv, key: string, cache: SharedSlateCache): Promise<Slate | null> {
  const cacheKey = new Request(`https://slate-cache.internal/${encodeURIComponent(key)}`);
  const store = caches.default;
  const refresh = async (): Promise<Slate | null> => {
    const slate = await readSlateFromKv(kv, key);
    if (slate) {
      const response = new Response(JSON.stringify(slate), {
        headers: { 'content-type': 'application/json', 'cache-control': 'max-age=86400', 'x-cached-at': String(Date.now()) },
      });
      await kv.meter.io(store.put(cacheKey, response));
    }
    return slate;
  };
  const hit = await kv.meter.io(store.match(cacheKey));
  if (hit) {
    const cachedAt = Number(hit.headers.get('x-cached-at') ?? 0);
    const parsed = SlateSchema.safeParse(await kv.meter.io(hit.json()));
    if (parsed.success) {
      // Serve what we have; if it is older than the freshness window, refresh it after answering.
      if (Date.now() - cachedAt > cache.freshMs) cache.waitUntil(refresh().catch(() => null));
      return parsed.data;
    }
  }
  return refresh();
}

export type SlateSource = 'user' | 'segment' | 'popular';

export interface FoundSlate {
  slate: Slate;
  source: SlateSource;
}

/** The user's own slate, if the nightly job computed one. */
export function readUserSlate(kv: MeteredKv, version: string, userId: string): Promise<Slate | null> {
  return readSlateFromKv(kv, slateKey(version, { kind: 'user', id: userId }), USER_SLATE_CACHE_TTL);
}

/** The segment slate, else the global popular slate (never a per-user one). */
export async function readSharedFallback(kv: MeteredKv, version: string, segment: string | undefined, cache: SharedSlateCache): Promise<FoundSlate | null> {
  const subjects: [SlateSource, SlateSubject][] = [];
  if (segment) subjects.push(['segment', { kind: 'segment', name: segment }]);
  subjects.push(['popular', { kind: 'popular' }]);
  for (const [source, subject] of subjects) {
    const slate = await readSharedSlate(kv, slateKey(version, subject), cache);
    if (slate) return { slate, source };
  }
  return null;
}

/** Item cards for ids (isolate cache, else parallel KV reads); missing or malformed cards are left out. */
export async function readItemCards(kv: MeteredKv, version: string, ids: readonly string[], now: number): Promise<Map<string, ItemCard>> {
  const out = new Map<string, ItemCard>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const hit = cardCache.get(`${version}:${id}`, now);
    if (hit) out.set(id, hit);
    else if (hit === undefined) missing.push(id);
  }
  const cards = await Promise.all(missing.map((id) => kv.json(itemCardKey(version, id), SLATE_CACHE_TTL)));
  cards.forEach((raw, k) => {
    const parsed = ItemCardSchema.safeParse(raw);
    const card = parsed.success && parsed.data.id === missing[k] ? parsed.data : null;
    cardCache.set(`${version}:${missing[k]}`, card, CARD_ISOLATE_MS, now);
    if (card) out.set(card.id, card);
  });
  return out;
}
