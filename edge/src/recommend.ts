/**
 * GET /v1/recommendations at the edge. The decision chain, each step flagged in `path` / `degraded`:
 *   user slate in KV (fresh)            → kv-slate
 *   anonymous: segment / popular slate  → kv-segment-slate / kv-popular-slate
 *   user slate missing or stale, or no slate version at all → origin (within the timeout budget)
 *   origin failed: stale user slate     → stale-slate;  else segment/popular slate → popular-fallback
 *   nothing anywhere                    → an empty list (200), never a 5xx for a dependency failure
 * Then: per-request rules (drop just-viewed and excluded items, out-of-stock cards), the session rerank
 * when the visitor has recent items, item cards for display, the shared response contract.
 */
import type { EdgeRecommendQuery, RecommendedItem, RecommendResponse } from '../../shared/contracts/recommend.ts';
import { decodeSlate, type ItemCard, type Slate, type SlateEntry } from '../../shared/contracts/slate.ts';
import type { ItemFeatures } from '../../shared/features/encode.ts';
import { recommendFromOrigin, type OriginClient } from './origin.ts';
import { rerankerSession, scoreCandidates } from './reranker.ts';
import { readItemCards, readPointer, readSharedFallback, readUserSlate, type FoundSlate, type SharedSlateCache } from './slates.ts';

export interface RecommendDeps {
  kv: KVNamespace;
  origin: OriginClient;
  slateMaxAgeMs: number;
  cache: SharedSlateCache;
  /** Bytes of the session reranker for a model version. */
  loadReranker: (modelVersion: string) => Promise<Uint8Array>;
  now: () => number;
  requestId: string;
}

type Path = RecommendResponse['path'];
/** How many slate candidates are reranked and checked for stock before the top k is cut. */
const RERANK_WINDOW = 50;

function pathOf(source: FoundSlate['source']): Path {
  return source === 'user' ? 'kv-slate' : source === 'segment' ? 'kv-segment-slate' : 'kv-popular-slate';
}

export async function recommendAtEdge(query: EdgeRecommendQuery, deps: RecommendDeps): Promise<RecommendResponse> {
  const started = deps.now();
  const degraded: string[] = [];
  const pointer = await readPointer(deps.kv).catch(() => {
    degraded.push('kv-error');
    return null;
  });

  let found: FoundSlate | null = null;
  if (pointer && query.user) {
    const slate = await readUserSlate(deps.kv, pointer.version, query.user).catch(() => null);
    if (slate) found = { slate, source: 'user' };
  }
  if (pointer && !found && !query.user) found = await readSharedFallback(deps.kv, pointer.version, query.segment, deps.cache).catch(() => null);

  const stale = found !== null && deps.now() - found.slate.at > deps.slateMaxAgeMs;
  let path: Path | null = found ? pathOf(found.source) : null;
  if (!found || stale) {
    const origin = await recommendFromOrigin(deps.origin, {
      userId: query.user,
      sessionId: query.session,
      surface: query.surface,
      k: query.k,
      sessionItemIds: query.recent,
      excludeIds: query.exclude,
      segment: query.segment,
      context: {},
    });
    if (origin.ok) return { ...origin.response, degraded: [...degraded, ...origin.response.degraded, ...(stale ? ['stale-slate'] : [])] };
    degraded.push(origin.reason);
    if (found && stale) {
      path = 'stale-slate';
    } else if (pointer) {
      found = await readSharedFallback(deps.kv, pointer.version, query.segment, deps.cache).catch(() => null);
      path = 'popular-fallback';
    }
  }
  if (!found || !pointer) {
    degraded.push('no-slate');
    return respond([], { path: 'popular-fallback', slateVersion: pointer?.version ?? null, modelVersion: pointer?.modelVersion ?? 'none', degraded, started, deps });
  }

  const items = await finishSlate(found.slate, query, deps, degraded);
  return respond(items, { path: path ?? pathOf(found.source), slateVersion: found.slate.sv, modelVersion: found.slate.mv, degraded, started, deps });
}

/** Rules, session rerank, stock check and cards for a slate. */
async function finishSlate(slate: Slate, query: EdgeRecommendQuery, deps: RecommendDeps, degraded: string[]): Promise<RecommendedItem[]> {
  const blocked = new Set([...query.recent, ...query.exclude]);
  const entries = decodeSlate(slate);
  let candidates = entries.filter((e) => !blocked.has(e.id)).slice(0, RERANK_WINDOW);
  const recentIds = query.recent.slice(-5);
  let recentCards = new Map<string, ItemCard>();
  if (recentIds.length > 0) {
    recentCards = await readItemCards(deps.kv, slate.sv, recentIds).catch(() => new Map<string, ItemCard>());
    const recent = recentFeatures(recentIds, entries, recentCards);
    if (recent.length > 0) {
      try {
        const session = await rerankerSession(slate.mv, () => deps.loadReranker(slate.mv));
        const scores = await scoreCandidates(session, candidates.map((c) => ({ id: c.id, category: c.category, brand: c.brand, priceBucket: c.priceBucket })), recent);
        candidates = candidates.map((c, i) => ({ ...c, score: scores[i] ?? 0 })).sort((a, b) => b.score - a.score);
      } catch (error) {
        console.error(JSON.stringify({ event: 'rerank-failed', error: String(error) }));
        degraded.push('rerank-failed');
      }
    }
  }
  const shortlist = candidates.slice(0, Math.min(candidates.length, query.k * 2));
  const cards = await readItemCards(deps.kv, slate.sv, shortlist.map((c) => c.id)).catch(() => {
    degraded.push('cards-unavailable');
    return new Map<string, ItemCard>();
  });
  return shortlist
    .filter((c) => (cards.get(c.id)?.st ?? 1) > 0)
    .slice(0, query.k)
    .map((c) => toItem(c, cards.get(c.id), recentIds, recentCards));
}

/** Features of the visitor's recent items: from the slate when they are in it, else from their cards. */
function recentFeatures(ids: readonly string[], entries: readonly SlateEntry[], cards: Map<string, ItemCard>): ItemFeatures[] {
  const inSlate = new Map(entries.map((e) => [e.id, e]));
  return ids.flatMap((id) => {
    const entry = inSlate.get(id);
    if (entry) return [{ category: entry.category, brand: entry.brand, priceBucket: entry.priceBucket }];
    const card = cards.get(id);
    return card ? [{ category: card.f[0], brand: card.f[1], priceBucket: card.f[2] }] : [];
  });
}

function toItem(entry: SlateEntry, card: ItemCard | undefined, recentIds: readonly string[], recentCards: Map<string, ItemCard>): RecommendedItem {
  // A session-driven reason wins when the item shares the category of something just viewed.
  const related = [...recentIds].reverse().map((id) => recentCards.get(id)).find((r) => r && r.f[0] === entry.category);
  const reason = related ? `Because you viewed ${related.t}` : entry.reason;
  return {
    id: entry.id,
    score: Math.round(entry.score * 1e4) / 1e4,
    reason,
    ...(card ? { title: card.t, price: card.pr, image: card.img, category: card.cat } : {}),
  };
}

function respond(
  items: RecommendedItem[],
  meta: { path: Path; slateVersion: string | null; modelVersion: string; degraded: string[]; started: number; deps: RecommendDeps },
): RecommendResponse {
  return {
    items,
    modelVersion: meta.modelVersion,
    slateVersion: meta.slateVersion,
    servedBy: 'edge',
    path: meta.path,
    degraded: meta.degraded,
    variant: null,
    latencyMs: Math.max(0, meta.deps.now() - meta.started),
    requestId: meta.deps.requestId,
  };
}
