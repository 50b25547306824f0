/**
 * Item-embedding encodings for the artifact (pure). float32 is the contract's default; float16 halves and
 * int8 quarters the file for large catalogues. int8 uses one symmetric scale (value = int8 × scale): the
 * rows are L2-normalised, so every component lies in [-1, 1] and one scale loses little.
 */
import type { ModelManifest } from '../../shared/contracts/manifest.ts';

export type EmbeddingDtype = ModelManifest['itemEmbeddingsDtype'];

export const EMBEDDING_FILE: Record<EmbeddingDtype, string> = {
  float32: 'item_embeddings.f32',
  float16: 'item_embeddings.f16',
  int8: 'item_embeddings.i8',
};

export interface EncodedEmbeddings {
  bytes: Uint8Array;
  scale?: number;
}

export function encodeEmbeddings(values: Float32Array, dtype: EmbeddingDtype): EncodedEmbeddings {
  if (dtype === 'float32') return { bytes: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
  if (dtype === 'float16') {
    const view = new DataView(new ArrayBuffer(values.length * 2));
    values.forEach((v, i) => view.setFloat16(i * 2, v, true));
    return { bytes: new Uint8Array(view.buffer) };
  }
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const out = new Int8Array(values.length);
  values.forEach((v, i) => { out[i] = Math.max(-127, Math.min(127, Math.round(v / scale))); });
  return { bytes: new Uint8Array(out.buffer), scale };
}

export function decodeEmbeddings(bytes: Uint8Array, dtype: EmbeddingDtype, scale = 1): Float32Array {
  if (dtype === 'float32') return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (dtype === 'float16') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float32Array.from({ length: bytes.byteLength / 2 }, (_, i) => view.getFloat16(i * 2, true));
  }
  return Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), (v) => v * scale);
}
