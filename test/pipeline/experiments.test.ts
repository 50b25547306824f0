/** Experiments on the real pipeline: variants pick model versions/knobs deterministically; shadows log only. */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignVariant } from '../../origin/experiments/assign.ts';
import { ExperimentSchema } from '../../origin/experiments/definitions.ts';
import { recommendWithExperiments, type ShadowLog } from '../../origin/experiments/shadow.ts';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import { cloneVersion, demoDataset, historiesOf, NOW, privateArtifacts } from './support.ts';

const data = demoDataset();
const histories = historiesOf(data);
let origin: ServedPipeline;
let root = '';
let version = '';
const candidate = () => `${version}-candidate`;

beforeAll(async () => {
  ({ root, version } = await privateArtifacts());
  await cloneVersion(root, version, candidate());
  origin = await openServedPipeline({ artifactsRoot: root, catalog: new InMemoryItemCatalog(data.items), pollMs: 0, annCacheDir: null, log: () => undefined });
  await origin.registry.pin(candidate());
});
afterAll(async () => {
  await origin?.close();
  await rm(root, { recursive: true, force: true });
});

describe('experiments', () => {
  it('serves each user the model version of its variant and labels the result', async () => {
    const experiment = ExperimentSchema.parse({
      id: 'ranker-v2',
      variants: [
        { id: 'control', weight: 1 },
        { id: 'candidate', weight: 1, settings: { modelVersion: candidate() } },
      ],
    });
    const users = [...histories.keys()].slice(0, 24);
    const seen = new Set<string>();
    for (const userId of users) {
      const result = await recommendWithExperiments(origin.pipeline, [experiment], { userId, surface: 'home', k: 5, history: histories.get(userId) ?? [], sessionItems: [], excludeIds: [], now: NOW, explorationSlots: 0 }, () => undefined);
      const variant = assignVariant(experiment, userId).id;
      expect(result.variant).toBe(`ranker-v2:${variant}`);
      expect(result.modelVersion).toBe(variant === 'candidate' ? candidate() : version);
      expect(result.degraded).toEqual([]);
      seen.add(variant);
    }
    expect([...seen].sort()).toEqual(['candidate', 'control']);
  });

  it('a shadow runs the other configuration, is logged, and does not change the served answer', async () => {
    const experiment = ExperimentSchema.parse({
      id: 'diversity',
      variants: [{ id: 'only', weight: 1 }],
      shadow: { settings: { mmrLambda: 0.2, modelVersion: candidate() } },
    });
    const userId = [...histories.keys()][5]!;
    const request = { userId, surface: 'home', k: 10, history: histories.get(userId) ?? [], sessionItems: [], excludeIds: [], now: NOW, explorationSlots: 0 };
    const logs: ShadowLog[] = [];
    const withShadow = await recommendWithExperiments(origin.pipeline, [experiment], request, (line) => logs.push(line));
    await withShadow.shadowDone;
    const plain = await origin.pipeline.recommend(request);
    expect(withShadow.items.map((i) => i.id)).toEqual(plain.items.map((i) => i.id));
    expect(withShadow.modelVersion).toBe(version);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.shadowModelVersion).toBe(candidate());
    expect(logs[0]!.servedIds).toEqual(plain.items.map((i) => i.id));
    expect(logs[0]!.shadowIds).toHaveLength(10);
    expect(logs[0]!.overlap).toBeGreaterThanOrEqual(0);
    expect(logs[0]!.overlap).toBeLessThan(1); // λ 0.2 diversifies: a different slate
  });
});
