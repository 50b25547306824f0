/**
 * Reading a model artifacts folder without a runtime: the pointer (current.json), a version's manifest and
 * its feature space. The registry (popular fallback), the ONNX loader and the nightly all read them here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelManifestSchema, ModelPointerSchema, type ModelManifest } from '../../shared/contracts/manifest.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';

/** The version current.json under `artifactsRoot` points to. */
export async function readPointer(artifactsRoot: string): Promise<string> {
  return ModelPointerSchema.parse(JSON.parse(await readFile(join(artifactsRoot, 'current.json'), 'utf8'))).version;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  return ModelManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
}

export async function readFeatureSpace(dir: string, manifest: ModelManifest): Promise<FeatureSpace> {
  return new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(dir, manifest.files.featureSpace), 'utf8'))));
}
