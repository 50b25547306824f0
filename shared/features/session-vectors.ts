/**
 * Session vectors: SESSION_VECTOR_DIM int8 numbers per item that tell the session reranker which items are
 * alike (an item table would not fit the edge at 1M items). The trainer fits the projection on the served item
 * embeddings (models/torch/reranker.py session_projection: centre, top principal components, one scale) and
 * ships it as session_projection.json; the origin maps every item it serves, cold-start items included, with
 * the same arithmetic, and the nightly writes the vectors into slates and item cards as base64 (24 characters).
 */
import { z } from 'zod';
import { SESSION_VECTOR_DIM } from './spec.ts';

export const SessionProjectionSchema = z.object({
  mean: z.array(z.number()),
  components: z.array(z.array(z.number())).length(SESSION_VECTOR_DIM),
  /** Multiplies the projected value before rounding: 127 / the largest magnitude over the trained catalogue. */
  scale: z.number().positive(),
});
export type SessionProjection = z.infer<typeof SessionProjectionSchema>;

/** int8 vectors for `count` embeddings (row-major, `dim` each), row r = item index r + 1; row 0 (unknown) stays zero. */
export function projectSessionVectors(embeddings: Float32Array, dim: number, projection: SessionProjection): Int8Array {
  if (projection.mean.length !== dim || projection.components.some((row) => row.length !== dim)) {
    throw new Error(`session projection is for ${projection.mean.length}-dimensional embeddings, the model has ${dim}`);
  }
  const count = Math.floor(embeddings.length / dim);
  const out = new Int8Array((count + 1) * SESSION_VECTOR_DIM);
  const centred = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let d = 0; d < dim; d++) centred[d] = embeddings[r * dim + d]! - projection.mean[d]!;
    for (let k = 0; k < SESSION_VECTOR_DIM; k++) {
      const row = projection.components[k]!;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += centred[d]! * row[d]!;
      out[(r + 1) * SESSION_VECTOR_DIM + k] = Math.max(-127, Math.min(127, roundHalfEven(dot * projection.scale)));
    }
  }
  return out;
}

/** numpy's rint (ties to even), so the TypeScript vectors equal the trainer's. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The vector of item `index` (a view; zeros for unknown items or when the model ships no projection). */
export function sessionVectorOf(vectors: Int8Array | undefined, index: number): Int8Array | undefined {
  if (!vectors || index <= 0 || (index + 1) * SESSION_VECTOR_DIM > vectors.length) return undefined;
  return vectors.subarray(index * SESSION_VECTOR_DIM, (index + 1) * SESSION_VECTOR_DIM);
}

/** Base64 of the vector's bytes, as slates and item cards carry it. */
export function encodeSessionVector(vector: Int8Array): string {
  let binary = '';
  for (const v of vector) binary += String.fromCharCode(v & 0xff);
  return btoa(binary);
}

/** The vector a slate or card carries; undefined when absent or malformed (the reranker then sees zeros). */
export function decodeSessionVector(text: string | undefined): Int8Array | undefined {
  if (!text) return undefined;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  if (binary.length !== SESSION_VECTOR_DIM) return undefined;
  return Int8Array.from(binary, (c) => (c.charCodeAt(0) << 24) >> 24);
}
