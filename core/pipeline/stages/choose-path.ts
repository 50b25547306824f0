/**
 * Stage: which candidate path answers a visitor: personal (known history), session (no history but session
 * items), segment (only a segment: the user tower with an empty history gives the segment's taste), popular
 * (nothing known, or no model loaded). Cold start never errors; it just takes a later path. planRequest also
 * resolves the request's settings, what it must never get back, and the flags known before any work.
 */
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import { CANDIDATES_PER_SLOT, MAX_CANDIDATES, resolveSettings, type PipelineSettings } from '../settings.ts';
import type { PipelineRequest, PipelineResult } from '../types.ts';

export interface CandidatePath {
  source: PipelineResult['source'];
  /** What the user tower (and DLRM history features) see, oldest → newest. */
  towerHistory: string[];
  segment: string | undefined;
}

export function choosePath(space: FeatureSpace, request: PipelineRequest): CandidatePath {
  const known = (ids: readonly string[]): string[] => ids.filter((id) => space.itemIndex(id) > 0);
  const history = known(request.history);
  const session = known(request.sessionItems);
  const segment = space.segmentIndex(request.segment) > 0 ? request.segment : undefined;
  if (history.length > 0) return { source: 'personal', towerHistory: [...history, ...session], segment };
  if (session.length > 0) return { source: 'session', towerHistory: session, segment };
  if (segment !== undefined) return { source: 'segment', towerHistory: [], segment };
  return { source: 'popular', towerHistory: [], segment: undefined };
}

/** A request with its path chosen: the input of every later stage. */
export interface PlannedRequest {
  readonly request: PipelineRequest;
  /** The pipeline defaults with the request's (experiment variant's) overrides. */
  readonly settings: PipelineSettings;
  readonly path: CandidatePath;
  /** Flags so far: 'model-unavailable', 'variant-model-unavailable', 'no-history'. */
  readonly degraded: readonly string[];
  /** Never recommended: explicit excludes (purchases, just seen), the history and the session items. */
  readonly excluded: ReadonlySet<string>;
}

export interface PlanContext {
  base: PipelineSettings;
  /** The served model's feature space, or the fallback one; null when none is readable. */
  space: FeatureSpace | null;
  /** Version of the loaded model; null when no model is loaded (popularity only). */
  modelVersion: string | null;
  /** The version the request's variant asked for (undefined: the current one). */
  askedVersion: string | undefined;
}

export function planRequest(request: PipelineRequest, ctx: PlanContext): PlannedRequest {
  const resolved = resolveSettings(ctx.base, request.settings);
  // A long slate (the nightly's 100, which the edge re-ranks) needs more candidates than a widget's 10 does: after
  // the rules and MMR there must be items left to choose from, new (cold-start) items among them.
  const settings = { ...resolved, candidates: Math.max(resolved.candidates, Math.min(MAX_CANDIDATES, CANDIDATES_PER_SLOT * request.k)) };
  const chosen = ctx.space ? choosePath(ctx.space, request) : null;
  const hasModel = ctx.modelVersion !== null;
  // Without a model only the popularity path exists; the visitor's items still explain nothing then.
  const path: CandidatePath = chosen && hasModel ? chosen : { source: 'popular', towerHistory: chosen?.towerHistory ?? [], segment: undefined };
  const degraded: string[] = [];
  if (ctx.askedVersion !== undefined && hasModel && ctx.modelVersion !== ctx.askedVersion) degraded.push('variant-model-unavailable');
  if (!hasModel) degraded.push('model-unavailable');
  if (hasModel && (path.source === 'segment' || path.source === 'popular')) degraded.push('no-history');
  const excluded = new Set([...request.excludeIds, ...request.history, ...request.sessionItems]);
  return { request, settings, path, degraded, excluded };
}
