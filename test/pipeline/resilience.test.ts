/** Degradation (broken model files, failing stats) and hot reload under load, on private copies of the demo models. */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import type { PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { cloneVersion, demoDataset, historiesOf, NOW, privateArtifacts, publish } from './support.ts';

const data = demoDataset();
const catalog = new InMemoryItemCatalog(data.items);
const histories = historiesOf(data);
const someUser = [...histories.keys()][0]!;
const personal: PipelineRequest = { userId: someUser, surface: 'home', k: 10, history: histories.get(someUser) ?? [], sessionItems: [], excludeIds: [], now: NOW, explorationSlots: 0 };
const roots: string[] = [];
const opened: ServedPipeline[] = [];

async function open(root: string, pollMs = 0): Promise<ServedPipeline> {
  const origin = await openServedPipeline({ artifactsRoot: root, catalog, pollMs, annCacheDir: null, log: () => undefined });
  opened.push(origin);
  return origin;
}

afterAll(async () => {
  await Promise.all(opened.map((o) => o.close()));
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

describe('degradation', () => {
  it('a corrupt DLRM file → popular fallback, flagged, never an error', async () => {
    const { root, version } = await privateArtifacts();
    roots.push(root);
    await writeFile(join(root, version, 'dlrm.onnx'), 'this is not an onnx model');
    const origin = await open(root);
    expect(origin.registry.status.lastError).toMatch(/failed to load/);
    const result = await origin.pipeline.recommend(personal);
    expect(result.degraded).toContain('model-unavailable');
    expect(result.source).toBe('popular');
    expect(result.items).toHaveLength(10);
    expect(result.modelVersion).toBe(version);
  });

  it('a missing user tower file → popular fallback, flagged', async () => {
    const { root, version } = await privateArtifacts();
    roots.push(root);
    await rm(join(root, version, 'user_tower.onnx'));
    const origin = await open(root);
    const result = await origin.pipeline.recommend(personal);
    expect(result.degraded).toContain('model-unavailable');
    expect(result.items).toHaveLength(10);
  });

  it('a broken new version is never swapped in; the old one keeps serving', async () => {
    const { root, version } = await privateArtifacts();
    roots.push(root);
    const origin = await open(root);
    await cloneVersion(root, version, `${version}-broken`);
    await writeFile(join(root, `${version}-broken`, 'user_tower.onnx'), new Uint8Array(100));
    await publish(root, `${version}-broken`);
    expect(await origin.registry.reload()).toBe(false);
    const result = await origin.pipeline.recommend(personal);
    expect(result.modelVersion).toBe(version);
    expect(result.degraded).toEqual([]);
    expect(result.source).toBe('personal');
  });

  it('an ANN failure falls back to popular, a DLRM failure to retrieval order; both flagged', async () => {
    const { root } = await privateArtifacts();
    roots.push(root);
    const origin = await open(root);
    const lease = origin.registry.acquire()!;
    // Fault injection into the loaded version's own objects (the pipeline under test is unchanged).
    const index = lease.model.index as { searchBatch: (q: Float32Array, k: number) => unknown };
    const searchBatch = index.searchBatch;
    index.searchBatch = () => {
      throw new Error('injected ANN failure');
    };
    const annDown = await origin.pipeline.recommend(personal);
    expect(annDown.degraded).toContain('ann-failed');
    expect(annDown.source).toBe('popular');
    expect(annDown.items).toHaveLength(10);
    index.searchBatch = searchBatch;
    const model = lease.model as { scoreCandidates: (...args: unknown[]) => Promise<Float32Array> };
    model.scoreCandidates = async () => Promise.reject(new Error('injected DLRM failure'));
    const rankerDown = await origin.pipeline.recommend(personal);
    expect(rankerDown.degraded).toEqual(['ranker-failed']);
    expect(rankerDown.source).toBe('personal');
    expect(rankerDown.items).toHaveLength(10);
    lease.release();
  });

  it('failing item stats turn exploration off, flagged', async () => {
    const { root } = await privateArtifacts();
    roots.push(root);
    const origin = await openServedPipeline({ artifactsRoot: root, catalog, pollMs: 0, annCacheDir: null, log: () => undefined, itemStats: async () => Promise.reject(new Error('redis down')) });
    opened.push(origin);
    const result = await origin.pipeline.recommend({ ...personal, explorationSlots: 2 });
    expect(result.degraded).toContain('item-stats-unavailable');
    expect(result.items.some((i) => i.reason === 'Something new to try')).toBe(false);
    expect(result.items).toHaveLength(10);
  });
});

describe('execution providers', () => {
  /** The provider served with no warning, or the session fell back to CPU saying why; true when it fell back. */
  function expectServedOrFellBack(status: { providers: readonly string[]; warnings: readonly string[] }, provider: string): boolean {
    if (status.providers.includes(provider)) {
      expect(status.warnings).toEqual([]);
      return false;
    }
    expect(status.providers).toEqual(['cpu']);
    expect(status.warnings.join(' ')).toMatch(new RegExp(`${provider}.*falling back to cpu`));
    return true;
  }

  it('asking for CUDA where it cannot run falls back to CPU with a visible warning', async () => {
    const { root } = await privateArtifacts();
    roots.push(root);
    const logs: Record<string, unknown>[] = [];
    const origin = await openServedPipeline({ artifactsRoot: root, catalog, pollMs: 0, annCacheDir: null, execution: { executionProviders: ['cuda', 'cpu'], intraOpNumThreads: 1 }, log: (line) => logs.push(line) });
    opened.push(origin);
    const status = origin.registry.status;
    expect(status.lastError).toBeNull();
    // This machine has no GPU and no CUDA add-on; on a CUDA host the provider serves.
    if (expectServedOrFellBack(status, 'cuda')) expect(logs.some((l) => l.event === 'model-warning')).toBe(true);
    const result = await origin.pipeline.recommend(personal);
    expect(result.degraded).toEqual([]);
    expect(result.items).toHaveLength(10);
  });

  it('asking for WebGPU gives the CPU slate: on the GPU where an adapter exists, else by falling back with a warning', async () => {
    const { root } = await privateArtifacts();
    roots.push(root);
    const open = (executionProviders: string[]) => openServedPipeline({ artifactsRoot: root, catalog, pollMs: 0, annCacheDir: null, execution: { executionProviders, intraOpNumThreads: 1 }, log: () => undefined });
    const [gpu, cpu] = [await open(['webgpu', 'cpu']), await open(['cpu'])];
    opened.push(gpu, cpu);
    const status = gpu.registry.status;
    expect(status.lastError).toBeNull();
    // No Vulkan adapter on a CPU-only machine (llvmpipe lacks what Dawn needs); on an NVIDIA host (docs/benchmarks.md) the provider serves.
    expectServedOrFellBack(status, 'webgpu');
    const [onGpu, onCpu] = [await gpu.pipeline.recommend(personal), await cpu.pipeline.recommend(personal)];
    expect(onGpu.degraded).toEqual([]);
    expect(onGpu.items.map((i) => i.id)).toEqual(onCpu.items.map((i) => i.id));
  });
});

describe('hot reload', () => {
  it('swaps to a newly published version under load with zero failed requests', async () => {
    const { root, version } = await privateArtifacts();
    roots.push(root);
    const origin = await open(root, 50);
    const next = `${version}-next`;
    const results: PipelineResult[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const users = [...histories.keys()].slice(0, 8);
    const load = Promise.all(
      users.map(async (userId) => {
        for (let n = 0; n < 400 && !stop; n++) {
          try {
            results.push(await origin.pipeline.recommend({ ...personal, userId, history: histories.get(userId) ?? [] }));
          } catch (error) {
            failures.push(error);
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    await cloneVersion(root, version, next);
    await publish(root, next);
    const deadline = Date.now() + 30_000;
    while (origin.pipeline.modelVersion !== next && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    await new Promise((resolve) => setTimeout(resolve, 150));
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(origin.pipeline.modelVersion).toBe(next);
    const versions = results.map((r) => r.modelVersion);
    expect(versions).toContain(version);
    expect(versions).toContain(next);
    // Once the new version is served, the old one is not served again (atomic swap).
    expect(versions.slice(versions.indexOf(next)).every((v) => v === next)).toBe(true);
    expect(results.every((r) => r.items.length === 10 && r.degraded.length === 0)).toBe(true);
    expect(origin.registry.status.swaps).toBe(1);
  });
});
