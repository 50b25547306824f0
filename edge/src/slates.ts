/**
 * Reading slates from KV: the version pointer, then the most specific slate that exists (user → segment →
 * popular), all under the pointer's version so a request never mixes two nightly runs. Item cards come from
 * the same version. Segment and popular slates are shared by many visitors and go through the Cache API
 * with stale-while-revalidate; per-user slates are read from KV directly.
 */
import { ItemCardSchema, SlatePointerSchema, SlateSchema, type ItemCard, type Slate, type SlatePointer } from '../../shared/contracts/slate.ts';
import { itemCardKey, SLATE_POINTER_KEY, slateKey, type SlateSubject } from '../../shared/kv/keys.ts';

/** KV's edge cache for hot keys (seconds); the pointer is re-read at most this often per location. */
const POINTER_CACHE_TTL = 60;
const SLATE_CACHE_TTL = 300;

export async function readPointer(kv: KVNamespace): Promise<SlatePointer | null> {
  const raw = await kv.get(SLATE_POINTER_KEY, { type: 'json', cacheTtl: POINTER_CACHE_TTL });
  const parsed = SlatePointerSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

async function readSlateFromKv(kv: KVNamespace, key: string): Promise<Slate | null> {
  const raw = await kv.get(key, { type: 'json', cacheTtl: SLATE_CACHE_TTL });
  if (raw === null) return null;
  const parsed = SlateSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export interface SharedSlateCache {
  freshMs: number;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Cache API with stale-while-revalidate for shared (segment / popular) slates. */
async function readSharedSlate(kv: KVNamespace, key: string, cache: SharedSlateCache): Promise<Slate | null> {
  const cacheKey = new Request(`https://slate-cache.internal/${encodeURIComponent(key)}`);
  const store = caches.default;
  const refresh = async (): Promise<Slate | null> => {
    const slate = await readSlateFromKv(kv, key);
    if (slate) {
      const response = new Response(JSON.stringify(slate), {
        headers: { 'content-type': 'application/json', 'cache-control': 'max-age=86400', 'x-cached-at': String(Date.now()) },
      });
      await store.put(cacheKey, response);
    }
    return slate;
  };
  const hit = await store.match(cacheKey);
  if (hit) {
    const cachedAt = Number(hit.headers.get('x-cached-at') ?? 0);
    const parsed = SlateSchema.safeParse(await hit.json());
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
export function readUserSlate(kv: KVNamespace, version: string, userId: string): Promise<Slate | null> {
  return readSlateFromKv(kv, slateKey(version, { kind: 'user', id: userId }));
}

/** The segment slate, else the global popular slate (never a per-user one). */
export async function readSharedFallback(kv: KVNamespace, version: string, segment: string | undefined, cache: SharedSlateCache): Promise<FoundSlate | null> {
  const subjects: [SlateSource, SlateSubject][] = [];
  if (segment) subjects.push(['segment', { kind: 'segment', name: segment }]);
  subjects.push(['popular', { kind: 'popular' }]);
  for (const [source, subject] of subjects) {
    const slate = await readSharedSlate(kv, slateKey(version, subject), cache);
    if (slate) return { slate, source };
  }
  return null;
}

/** Item cards for ids (parallel KV reads); missing or malformed cards are left out. */
export async function readItemCards(kv: KVNamespace, version: string, ids: readonly string[]): Promise<Map<string, ItemCard>> {
  const cards = await Promise.all(ids.map((id) => kv.get(itemCardKey(version, id), { type: 'json', cacheTtl: SLATE_CACHE_TTL })));
  const out = new Map<string, ItemCard>();
  cards.forEach((raw) => {
    const parsed = ItemCardSchema.safeParse(raw);
    if (parsed.success) out.set(parsed.data.id, parsed.data);
  });
  return out;
}
