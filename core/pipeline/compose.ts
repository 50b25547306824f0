/**
 * The recommendation pipeline, composed here and only here: for each batch of requests,
 *   choose-path → retrieve (user tower + ANN) | popular → filter (business rules) → rank (DLRM + blend)
 *   → item stats → rerank (MMR, category caps, exploration, reasons).
 * Each stage is a function in stages/ with a typed input and output; this file passes the values from one
 * to the next. Concurrent recommend() calls are micro-batched (≤ windowMs or maxBatch requests) so they
 * share one user-tower run, one ANN batch search and one DLRM run; the nightly's recommendBatch enters the
 * same code directly. Requests are grouped by the model version their experiment variant asks for. Any
 * failing stage degrades (flagged in `degraded`), never throws.
 * A new stage is a new file in stages/ and one step in runGroup below.
 */
import type { RankCandidate } from '../../shared/features/encode.ts';
import { createRng, type Rng } from '../../shared/util/rng.ts';
import type { ItemCatalog } from '../ports/catalog.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import { MicroBatcher } from './micro-batcher.ts';
import { DEFAULT_PIPELINE_SETTINGS, resolveSettings, type PipelineSettings } from './settings.ts';
import { StageClock } from './stage-clock.ts';
import { planRequest, type PlannedRequest } from './stages/choose-path.ts';
import { filterCandidates } from './stages/filter.ts';
import { explorationSlotsFor, fetchItemStats, type ItemStatsSource } from './stages/item-stats.ts';
import { popularCandidates, popularityScores } from './stages/popular.ts';
import { rank } from './stages/rank.ts';
import { rerankSlate } from './stages/rerank.ts';
import { sessionRerank } from './stages/session.ts';
import { retrieve, type Retrieval } from './stages/retrieve.ts';
import type { Pipeline, PipelineRequest, PipelineResult } from './types.ts';

export interface PipelineOptions {
  registry: ModelRegistry;
  catalog: ItemCatalog;
  /** Click stats for exploration (the FeatureStore's itemStats); none = uniform priors. */
  itemStats?: ItemStatsSource | undefined;
  settings?: Partial<PipelineSettings> | undefined;
  /** Seeded RNG for reproducible exploration (tests); default seeded from the clock. */
  rng?: Rng | undefined;
  batchWindowMs?: number | undefined;
  maxBatch?: number | undefined;
  /** Told the size of each micro-batch of concurrent recommend() calls (metrics). */
  onBatch?: ((size: number) => void) | undefined;
}

export type ComposedPipeline = Pipeline & { readonly batchSizes: readonly number[] };

export function composePipeline(options: PipelineOptions): ComposedPipeline {
  const base = resolveSettings(DEFAULT_PIPELINE_SETTINGS, options.settings);
  const rng = options.rng ?? createRng((Date.now() ^ (process.pid << 8)) >>> 0);
  const { registry, catalog } = options;
  const maxBatch = options.maxBatch ?? 64;

  /** One batch of requests that ask for the same model version (undefined: the current one). */
  async function runGroup(requests: readonly PipelineRequest[], version: string | undefined): Promise<PipelineResult[]> {
    const clock = new StageClock();
    const lease = registry.acquire(version);
    try {
      const model = lease?.model ?? null;
      const space = model?.space ?? registry.fallbackSpace()?.space ?? null;
      const modelVersion = model?.version ?? registry.version;

      // 1. Which candidate path answers each visitor (personal, session, segment, popular).
      const planned = requests.map((request) => planRequest(request, { base, space, modelVersion: model?.version ?? null, askedVersion: version }));
      if (!space) return planned.map((p) => ({ items: [], modelVersion, degraded: [...p.degraded, 'no-feature-space'], stageMs: clock.ms, source: 'popular' }));

      // 2. Candidates: retrieval for the personal paths (when a model is loaded), popularity for the rest and
      //    for any request retrieval could not serve.
      const personal = model ? planned.filter((p) => p.path.source !== 'popular') : [];
      const retrieved = new Map<PlannedRequest, Retrieval>();
      if (model && personal.length > 0) (await retrieve(model, personal, clock)).forEach((r, i) => retrieved.set(personal[i]!, r));
      const sourced = planned.map((p) => {
        const r = retrieved.get(p);
        if (r && 'failed' in r) return { ...p, path: { ...p.path, source: 'popular' as const }, degraded: [...p.degraded, r.failed], candidates: [] as RankCandidate[] };
        return { ...p, candidates: r?.candidates ?? [] };
      });

      // 3. Business rules (over popular candidates where retrieval gave none).
      const filtered = await clock.time('rules', () =>
        sourced.map((s) => {
          const candidates = s.path.source === 'popular' || s.candidates.length === 0 ? popularCandidates(space, s.settings.candidates, s.excluded.size) : s.candidates;
          return { ...s, candidates: filterCandidates(space, catalog, candidates, s.excluded) };
        }),
      );

      // 4. Ranking of the personal candidates; popular candidates are scored by popularity.
      const toRank = model ? filtered.filter((f) => f.path.source !== 'popular' && f.candidates.length > 0) : [];
      const ranking = model ? await rank(model, toRank.map((f) => ({ path: f.path, settings: f.settings, now: f.request.now, candidates: f.candidates })), clock) : { scores: [], failed: false };
      const scored = filtered.map((f) => {
        const r = toRank.indexOf(f);
        if (r < 0) return { ...f, scores: popularityScores(space, f.candidates) };
        return { ...f, scores: ranking.scores[r]!, degraded: ranking.failed ? [...f.degraded, 'ranker-failed'] : f.degraded };
      });

      // 4b. Session rerank of the personal slates whose request carries session items (as the edge does).
      const session = await sessionRerank(model, toRank.map((f) => ({ sessionItems: f.settings.sessionRerank ? f.request.sessionItems : [], strength: f.settings.sessionRerankStrength, candidates: f.candidates, scores: scored[filtered.indexOf(f)]!.scores })), clock);
      toRank.forEach((f, r) => {
        const i = filtered.indexOf(f);
        scored[i] = { ...scored[i]!, scores: session.scores[r]!, degraded: session.failed ? [...scored[i]!.degraded, 'session-rerank-failed'] : scored[i]!.degraded };
      });

      // 5. Click stats for the slates that explore, then 6. the slate: MMR, caps, exploration, reasons.
      const stats = await clock.time('item_stats', () =>
        fetchItemStats(options.itemStats, scored.map((s) => ({ ids: s.candidates.map((c) => c.id), slots: explorationSlotsFor(s.request, s.settings), rerankPool: s.settings.rerankPool }))),
      );
      const slates = await clock.time('rerank', () => scored.map((s) => rerankSlate(s, { space, catalog, model, stats, rng })));
      return slates.map((s, i) => ({ items: s.items, modelVersion, degraded: s.degraded, stageMs: { ...clock.ms }, source: scored[i]!.path.source }));
    } finally {
      lease?.release();
    }
  }

  /** Groups a batch by requested model version; results in request order. */
  async function runBatch(requests: readonly PipelineRequest[]): Promise<PipelineResult[]> {
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const key = r.settings?.modelVersion ?? '';
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const results: PipelineResult[] = new Array(requests.length);
    for (const [key, positions] of groups) {
      const out = await runGroup(positions.map((p) => requests[p]!), key === '' ? undefined : key);
      positions.forEach((p, j) => (results[p] = out[j]!));
    }
    return results;
  }

  const batcher = new MicroBatcher<PipelineRequest, PipelineResult>((requests) => runBatch(requests), { windowMs: options.batchWindowMs ?? 2, maxItems: maxBatch, onBatch: options.onBatch });

  return {
    recommend: (request) => batcher.submit(request),
    recommendBatch: async (requests) => {
      const out: PipelineResult[] = [];
      for (let i = 0; i < requests.length; i += maxBatch) out.push(...(await runBatch(requests.slice(i, i + maxBatch))));
      return out;
    },
    get modelVersion() {
      return registry.version;
    },
    get batchSizes() {
      return batcher.batchSizes;
    },
  };
}
