/**
 * The multi-core path (Piscina worker threads, one pipeline each, KV writes overlapping compute) writes
 * exactly what the single-thread path writes: the same keys with byte-identical values, for the same
 * version and time. Real ONNX models, real ANN, real local KV.
 */
import { decodeSlate, ItemCardSchema, SlateSchema } from '../../shared/contracts/slate.ts';
import { decodeSessionVector, sessionVectorOf } from '../../shared/features/session-vectors.ts';
import { itemCardKey } from '../../shared/kv/keys.ts';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoInputs, loadModelArtifacts, type ModelArtifacts } from '../../batch/nightly/inputs.ts';
import { runNightly, type NightlyOptions } from '../../batch/nightly/job.ts';
import { workerPoolComputer } from '../../batch/nightly/worker-pool.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { dumpLocalKv, root, tempDir } from './helpers.ts';

let dir: string;
let artifacts: ModelArtifacts;
const demo = demoInputs({}, 150);
const VERSION = 'v20260103T000000Z';
const AT = Date.UTC(2026, 0, 3);

beforeAll(async () => {
  dir = await tempDir('nightly-parallel');
  artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(name: string, extra: Partial<NightlyOptions>): Promise<Map<string, string>> {
  const kv = await openLocalKv({ persistTo: join(dir, name), namespaceId: 'ns' });
  try {
    const summary = await runNightly({
      kv,
      space: artifacts.space,
      sessionVectors: artifacts.sessionVectors,
      items: demo.items,
      users: demo.users,
      segments: demo.dataset.segments,
      stateDir: join(dir, `${name}-state`),
      shards: 4,
      batchSize: 16,
      slateSize: 20,
      version: VERSION,
      at: AT,
      ...extra,
    });
    expect(summary.users).toBe(150);
    expect(summary.flipped).toBe(true);
  } finally {
    await kv.close();
  }
  return dumpLocalKv(join(dir, name), 'ns');
}

describe('nightly on worker threads', () => {
  it('writes key-for-key what the single-thread path writes', async () => {
    const served = await openServedPipeline(fixedVersionServing(artifacts.dir, demo.items));
    let single: Map<string, string>;
    try {
      single = await run('single', { pipeline: served.pipeline });
    } finally {
      await served.close();
    }
    const pooled = await run('pooled', {
      modelVersion: artifacts.version,
      computer: (version) => workerPoolComputer({ threads: 2, versionDir: artifacts.dir, items: demo.items, version, slateSize: 20 }),
    });
    const userKeys = [...single.keys()].filter((k) => k.startsWith(`slate:${VERSION}:user:`));
    expect(userKeys.length).toBe(150);
    // The pointer and meta carry the same version/time; everything else must match byte for byte.
    expect([...pooled.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [key, value] of single) expect(pooled.get(key), key).toBe(value);
    // Slates and item cards carry each item's session vector, the model's own (the edge reranker's input).
    const slate = decodeSlate(SlateSchema.parse(JSON.parse(single.get(userKeys[0]!)!)));
    expect(slate.length).toBe(20);
    for (const entry of slate) {
      expect([...entry.vector!]).toEqual([...sessionVectorOf(artifacts.sessionVectors, artifacts.space.itemIndex(entry.id))!]);
    }
    const card = ItemCardSchema.parse(JSON.parse(single.get(itemCardKey(VERSION, slate[0]!.id))!));
    expect([...decodeSessionVector(card.v)!]).toEqual([...slate[0]!.vector!]);
  }, 240_000);
});
