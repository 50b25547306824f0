/**
 * Builds the Pipeline the nightly computes slates with: the origin's real pipeline (same code as online
 * serving) when it and the model artifacts are available, else the popularity baseline, loudly.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline } from '../../origin/pipeline/types.ts';
import type { ModelArtifacts } from './inputs.ts';
import { createPopularityPipeline } from './popularity-pipeline.ts';

export async function createNightlyPipeline(root: string, artifacts: ModelArtifacts, preferBaseline: boolean): Promise<Pipeline> {
  const factoryPath = join(root, 'origin', 'pipeline', 'factory.ts');
  if (!preferBaseline && existsSync(factoryPath)) {
    const factory = (await import(factoryPath)) as { createPipelineFromArtifacts?: (dir: string) => Promise<Pipeline> };
    if (factory.createPipelineFromArtifacts) return factory.createPipelineFromArtifacts(artifacts.dir);
  }
  process.stderr.write(`[nightly] WARNING: origin pipeline factory not available, using the popularity baseline\n`);
  return createPopularityPipeline(artifacts.space, artifacts.version);
}
