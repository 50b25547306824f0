/**
 * Builds (once, cached under var/bench/) a model-artifact folder for a synthetic catalogue of any size:
 * the built-in generator's shop at that size, a feature space from a bounded set of users' interactions,
 * and random-weight ONNX models of the real architectures (scripts/bench/synthetic_models.py). Used by the
 * nightly benchmark to time the real pipeline at 1M items; the recommendations themselves are meaningless.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateShop, interactionsOfUser } from '../../shared/catalog/generator.ts';
import type { Dataset, Interaction } from '../../shared/catalog/types.ts';
import { SEGMENT_NAMES } from '../../shared/catalog/names.ts';
import type { ModelManifest } from '../../shared/contracts/manifest.ts';
import { buildFeatureSpace } from '../../shared/features/feature-space.ts';
import { FEATURE_SPEC_VERSION, PRICE_BUCKETS } from '../../shared/features/spec.ts';

export interface SyntheticArtifacts {
  dir: string;
  dataset: Dataset;
  buildSeconds: number;
}

export async function syntheticArtifacts(root: string, items: number, users: number, dim = 64): Promise<SyntheticArtifacts> {
  const started = performance.now();
  // The feature spec is in the name: a folder cached under an older spec is never served by newer code.
  const version = `synthetic-${items}x${users}-d${dim}-s${FEATURE_SPEC_VERSION}`;
  const dir = join(root, 'var', 'bench', version);
  const shop = generateShop({ items, users });
  const interactions: Interaction[] = [];
  for (let u = 0; u < users; u++) for (const e of interactionsOfUser(shop, u)) interactions.push(e);
  interactions.sort((a, b) => a.ts - b.ts);
  const dataset: Dataset = { name: version, items: shop.items, users: shop.users, interactions, segments: [...SEGMENT_NAMES], categories: shop.categories, brands: shop.brands };
  if (existsSync(join(dir, 'manifest.json'))) return { dir, dataset, buildSeconds: 0 };

  await mkdir(dir, { recursive: true });
  const space = buildFeatureSpace(dataset.items, dataset.segments, interactions, shop.options.endTime);
  await writeFile(join(dir, 'feature_space.json'), JSON.stringify(space));
  const vocab = { items, categories: space.categories.length, brands: space.brands.length, segments: space.segments.length, priceBuckets: PRICE_BUCKETS };
  await writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(join(dir, 'item_category.i32'), Buffer.from(Int32Array.from(space.itemCategory).buffer));
  execFileSync(process.env.PYTHON ?? '/usr/bin/python3', [join(root, 'scripts', 'bench', 'synthetic_models.py'), dir, join(dir, 'vocab.json'), join(dir, 'item_category.i32'), String(dim)], { stdio: 'inherit' });
  const manifest: ModelManifest = {
    version,
    createdAt: new Date().toISOString(),
    featureSpecVersion: FEATURE_SPEC_VERSION,
    dataset: version,
    embeddingDim: dim,
    itemCount: items,
    vocab,
    files: { userTower: 'user_tower.onnx', dlrm: 'dlrm.onnx', sessionReranker: 'session_reranker.onnx', itemEmbeddings: 'item_embeddings.f32', featureSpace: 'feature_space.json' },
    itemEmbeddingsDtype: 'float32',
    metrics: {},
    training: { synthetic: true, note: 'random weights, for timing only' },
  };
  // The manifest goes last: its presence marks a complete folder.
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return { dir, dataset, buildSeconds: (performance.now() - started) / 1000 };
}

if (import.meta.main) {
  const items = Number(process.argv[2] ?? 1_000_000);
  const users = Number(process.argv[3] ?? 3000);
  const out = await syntheticArtifacts(join(import.meta.dirname, '..', '..'), items, users);
  console.log(JSON.stringify({ dir: out.dir, buildSeconds: out.buildSeconds, interactions: out.dataset.interactions.length }));
}
