/**
 * Reading a model artifacts folder without a runtime: the pointer (current.json), a version's manifest, its
 * feature space, item embeddings and session-vector projection. The registry (popular fallback), the ONNX
 * loader and the nightly all read them here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelManifestSchema, ModelPointerSchema, type ModelManifest } from '../../shared/contracts/manifest.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { projectSessionVectors, SessionProjectionSchema, type SessionProjection } from '../../shared/features/session-vectors.ts';

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

/** The trained item embeddings, itemCount × embeddingDim row-major (row r = item index r + 1), as float32. */
export async function readEmbeddings(dir: string, manifest: ModelManifest): Promise<Float32Array> {
  const bytes = await readFile(join(dir, manifest.files.itemEmbeddings));
  const expected = manifest.itemCount * manifest.embeddingDim;
  if (manifest.itemEmbeddingsDtype === 'float32') {
    if (bytes.byteLength !== expected * 4) throw new Error(`item embeddings: ${bytes.byteLength} bytes, expected ${expected * 4}`);
    // A view of the file's buffer when it is 4-byte aligned (readFile's own allocation is): no second copy (256 MB at 1M × 64).
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, expected);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  if (manifest.itemEmbeddingsDtype === 'int8') {
    if (bytes.byteLength !== expected) throw new Error(`item embeddings: ${bytes.byteLength} bytes, expected ${expected}`);
    const scale = manifest.itemEmbeddingsScale ?? 1;
    return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), (v) => v * scale);
  }
  throw new Error(`item embeddings dtype ${manifest.itemEmbeddingsDtype} is not supported by the origin`);
}

/** session_projection.json; undefined for versions trained before session vectors (the reranker then sees zeros). */
export async function readSessionProjection(dir: string, manifest: ModelManifest): Promise<SessionProjection | undefined> {
  const file = manifest.files.sessionProjection;
  if (!file) return undefined;
  return SessionProjectionSchema.parse(JSON.parse(await readFile(join(dir, file), 'utf8')));
}

/** Session vectors of the trained items (row = item index), for the nightly's slates and cards; undefined without a projection. */
export async function readSessionVectors(dir: string, manifest: ModelManifest): Promise<Int8Array | undefined> {
  const projection = await readSessionProjection(dir, manifest);
  if (!projection) return undefined;
  return projectSessionVectors(await readEmbeddings(dir, manifest), manifest.embeddingDim, projection);
}
