/**
 * The Pipeline the nightly computes slates with: the origin's own pipeline (origin/pipeline/factory.ts) for
 * one model-version folder — batched user tower, ANN, DLRM, rules, MMR — with exploration off, so slates are
 * deterministic and a resumed run writes exactly what an uninterrupted one would.
 */
import type { Item } from '../../shared/catalog/types.ts';
import { createPipelineFromArtifacts } from '../../origin/pipeline/factory.ts';
import type { Pipeline } from '../../origin/pipeline/types.ts';

export function createNightlyPipeline(versionDir: string, items: readonly Item[]): Promise<Pipeline> {
  return createPipelineFromArtifacts(versionDir, { items });
}
