/**
 * GET /v1/recommendations at the edge. The decision chain, each step flagged in `path` / `degraded`:
 *   verified user's slate in KV (fresh) → kv-slate
 *   anonymous: segment / popular slate  → kv-segment-slate / kv-popular-slate
 *   user slate missing or stale, or no slate version at all → origin (within the timeout budget)
 *   origin failed: stale user slate     → stale-slate;  else segment/popular slate → popular-fallback
 *   nothing anywhere                    → an empty list (200), never a 5xx for a dependency failure
 * Then: per-request rules (drop just-viewed and excluded items, out-of-stock items), the session rerank
 * when the visitor sent recent items, cards (carried by the slate; price/stock changes applied), the shared
 * response contract. `query.user` is set only for a visitor whose user token was verified (identity.ts).
 */
import type { ItemChanges } from '../../shared/contracts/item-changes.ts';
import type { EdgeRecommendQuery, RecommendedItem, RecommendResponse } from '../../shared/contracts/recommend.ts';
import { decodeSlate, decodeSlateCards, type ItemCard, type Slate, type SlateEntry } from '../../shared/contracts/slate.ts';
import type { ItemFeatures } from '../../shared/features/encode.ts';
import { decodeSessionVector } from '../../shared/features/session-vectors.ts';
import { SESSION_LENGTH } from '../../shared/features/spec.ts';
import type { MeteredKv } from './meter.ts';
import { recommendFromOrigin, type OriginClient } from './origin.ts';
import { scoreCandidates, type ScorerHandle } from './rerank/runtime.ts';
import { readItemCards, readItemChanges, readPointer, readSharedFallback, readUserSlate, type FoundSlate, type SharedSlateCache } from './slates.ts';

export interface RecommendDeps {
  kv: MeteredKv;
  origin: OriginClient;
  slateMaxAgeMs: number;
  cache: SharedSlateCache;
  /** How long the pointer and the pending item changes are kept in isolate memory. */
  isolateCacheMs: number;
  /** Slate candidates scored by the session reranker. */
  rerankCandidates: number;
  /** The session reranker for a model version (created once per isolate). */
  reranker: (modelVersion: string) => Promise<ScorerHandle>;
  now: () => number;
  requestId: string;
}

type Path = RecommendResponse['path'];
/** How long before a version's timestamp its catalogue may have been read (the nightly reads it first). */
const CHANGE_SLACK_MS = 3_600_000;

function pathOf(source: FoundSlate['source']): Path {
  return source === 'user' ? 'kv-slate' : source === 'segment' ? 'kv-segment-slate' : 'kv-popular-slate';
}

export async function recommendAtEdge(query: EdgeRecommendQuery, deps: RecommendDeps, degraded: string[] = []): Promise<RecommendResponse> {
  const started = deps.now();
  const pointer = await readPointer(deps.kv, deps.isolateCacheMs, started).catch(() => {
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
    const origin = await deps.kv.meter.io(
      recommendFromOrigin(deps.origin, {
        userId: query.user,
        // An anonymous visitor's session id is not a credential: the origin gets a fresh one, so it answers
        // from the items the browser sent, never from what it stored under someone's session.
        sessionId: query.user ? query.session : `anon-${deps.requestId}`,
        surface: query.surface,
        k: query.k,
        sessionItemIds: query.recent,
        excludeIds: query.exclude,
        segment: query.segment,
        context: {},
      }),
    );
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

/** Cards for ids: from the slate when it carries them, else item reads (isolate-cached). */
async function cardsFor(ids: readonly string[], slateCards: Map<string, ItemCard> | null, slate: Slate, deps: RecommendDeps): Promise<Map<string, ItemCard>> {
  const out = new Map<string, ItemCard>();
  const rest: string[] = [];
  for (const id of ids) {
    const card = slateCards?.get(id);
    if (card) out.set(id, card);
    else rest.push(id);
  }
  if (rest.length === 0) return out;
  const read = await readItemCards(deps.kv, slate.sv, rest, deps.now());
  for (const [id, card] of read) out.set(id, card);
  return out;
}

/**
 * A card with its pending price/stock change applied. Changes recorded well before the slate's version was
 * computed are already in its cards and are ignored (so a later full catalogue import wins over an old
 * change); the slack covers the time between the nightly's catalogue read and its version timestamp.
 */
function current(card: ItemCard | undefined, changes: ItemChanges, slateAt: number): ItemCard | undefined {
  const change = card ? changes.items[card.id] : undefined;
  if (!card || !change || change.at < slateAt - CHANGE_SLACK_MS) return card;
  return { ...card, pr: change.pr ?? card.pr, st: change.st ?? card.st };
}

/** Rules, session rerank, stock check and cards for a slate. */
async function finishSlate(slate: Slate, query: EdgeRecommendQuery, deps: RecommendDeps, degraded: string[]): Promise<RecommendedItem[]> {
  const blocked = new Set([...query.recent, ...query.exclude]);
  const entries = decodeSlate(slate);
  const slateCards = decodeSlateCards(slate);
  let candidates = entries.filter((e) => !blocked.has(e.id)).slice(0, deps.rerankCandidates);
  const recentIds = query.recent.slice(-SESSION_LENGTH);
  const [recentCards, changes] = await Promise.all([
    recentIds.length > 0 ? cardsFor(recentIds, slateCards, slate, deps).catch(() => new Map<string, ItemCard>()) : Promise.resolve(new Map<string, ItemCard>()),
    readItemChanges(deps.kv, deps.isolateCacheMs, deps.now()).catch((): ItemChanges => {
      degraded.push('item-changes-unavailable');
      return { f: 1, items: {} };
    }),
  ]);
  const recent = recentFeatures(recentIds, entries, recentCards);
  if (recent.length > 0) {
    try {
      const { scorer, strength } = await deps.reranker(slate.mv);
      if (scorer) {
        const scores = await scoreCandidates(scorer, candidates.map((c) => ({ id: c.id, category: c.category, brand: c.brand, priceBucket: c.priceBucket, vector: c.vector })), recent, strength);
        candidates = candidates.map((c, i) => ({ ...c, score: scores[i] ?? 0 })).sort((a, b) => b.score - a.score);
      }
    } catch (error) {
      console.error(JSON.stringify({ event: 'rerank-failed', error: String(error) }));
      degraded.push('rerank-failed');
    }
  }
  const shortlist = candidates.slice(0, Math.min(candidates.length, query.k * 2));
  const cards = slateCards
    ? slateCards
    : await cardsFor(shortlist.map((c) => c.id), null, slate, deps).catch(() => {
        degraded.push('cards-unavailable');
        return new Map<string, ItemCard>();
      });
  return shortlist
    .map((entry) => ({ entry, card: current(cards.get(entry.id), changes, slate.at) }))
    .filter(({ card }) => (card?.st ?? 1) > 0)
    .slice(0, query.k)
    .map(({ entry, card }) => toItem(entry, card, recentIds, recentCards));
}

/** Features of the visitor's recent items: from the slate when they are in it, else from their cards. */
function recentFeatures(ids: readonly string[], entries: readonly SlateEntry[], cards: Map<string, ItemCard>): ItemFeatures[] {
  const inSlate = new Map(entries.map((e) => [e.id, e]));
  return ids.flatMap((id) => {
    const entry = inSlate.get(id);
    if (entry) return [{ category: entry.category, brand: entry.brand, priceBucket: entry.priceBucket, vector: entry.vector }];
    const card = cards.get(id);
    return card ? [{ category: card.f[0], brand: card.f[1], priceBucket: card.f[2], vector: decodeSessionVector(card.v) }] : [];
  });
}

/**
 * A session-driven reason wins when the item shares the category of something just viewed. It names only
 * items the browser sent (`recentIds`); other reasons come from the slate (a user's own slate only when the
 * user was verified).
 */
function toItem(entry: SlateEntry, card: ItemCard | undefined, recentIds: readonly string[], recentCards: Map<string, ItemCard>): RecommendedItem {
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
