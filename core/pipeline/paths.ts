/**
 * Which candidate path answers a visitor: personal (known history), session (no history but session items),
 * segment (only a segment: the user tower with an empty history gives the segment's taste), popular
 * (nothing known). Cold start never errors; it just takes a later path.
 */
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { PipelineRequest, PipelineResult } from './types.ts';

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

const popularCache = new WeakMap<FeatureSpace, Int32Array>();

/** Item indices by popularity (desc), computed once per feature space. */
export function popularIndices(space: FeatureSpace): Int32Array {
  let order = popularCache.get(space);
  if (!order) {
    const indices = Array.from({ length: space.itemCount }, (_, i) => i + 1);
    indices.sort((a, b) => space.popularity(b) - space.popularity(a) || a - b);
    order = Int32Array.from(indices);
    popularCache.set(space, order);
  }
  return order;
}
