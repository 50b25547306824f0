/** Shared fixtures for the pipeline tests: the committed demo models and the generated shop they were trained on. */
import { cp, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../../shared/catalog/generator.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { ModelPointerSchema, type ModelManifest } from '../../shared/contracts/manifest.ts';
import { readEmbeddings, readManifest } from '../../core/registry/artifacts.ts';

export const ARTIFACTS_ROOT = join(import.meta.dirname, '..', '..', 'models', 'artifacts');
export const NOW = Date.UTC(2026, 10, 1);

let dataset: Dataset | undefined;
export function demoDataset(): Dataset {
  dataset ??= generateDataset({});
  return dataset;
}

export async function currentVersion(root = ARTIFACTS_ROOT): Promise<string> {
  return ModelPointerSchema.parse(JSON.parse(await readFile(join(root, 'current.json'), 'utf8'))).version;
}

/** The current demo version's folder, manifest and item embeddings, read as the origin reads them. */
export async function demoEmbeddings(): Promise<{ dir: string; manifest: ModelManifest; vectors: Float32Array; dim: number }> {
  const dir = join(ARTIFACTS_ROOT, await currentVersion());
  const manifest = await readManifest(dir);
  return { dir, manifest, vectors: await readEmbeddings(dir, manifest), dim: manifest.embeddingDim };
}

/** A private artifacts root holding a copy of the current demo version (tests corrupt or republish it). */
export async function privateArtifacts(): Promise<{ root: string; version: string }> {
  const version = await currentVersion();
  const root = await mkdtemp(join(tmpdir(), 'pipeline-artifacts-'));
  await cp(join(ARTIFACTS_ROOT, version), join(root, version), { recursive: true });
  await publish(root, version);
  return { root, version };
}

/** Copies a version folder under a new version id (manifest rewritten), like a retrain would publish. */
export async function cloneVersion(root: string, from: string, to: string): Promise<void> {
  await cp(join(root, from), join(root, to), { recursive: true });
  const manifestPath = join(root, to, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  await writeFile(manifestPath, JSON.stringify({ ...manifest, version: to }));
}

export async function publish(root: string, version: string): Promise<void> {
  const tmp = join(root, `.current.${process.pid}.json`);
  await writeFile(tmp, JSON.stringify({ version }));
  await rename(tmp, join(root, 'current.json'));
}

/** Positive-interaction histories per user, oldest → newest. */
export function historiesOf(data: Dataset): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of data.interactions) {
    if (e.type === 'impression' || e.type === 'click') continue;
    const list = out.get(e.userId) ?? [];
    list.push(e.itemId);
    out.set(e.userId, list);
  }
  return out;
}
