/**
 * The loaded model's unit-length item rows (MMR similarity, neighbour candidates' retrieval score): served from the
 * embeddings themselves when the item tower already normalised them (no 256 MB copy at 1M items), normalised into a
 * copy when not; the same similarities either way. Also: the embeddings file read as a view equals its bytes.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../adapters/onnx/loaded-model.ts';
import { demoEmbeddings, privateArtifacts } from './support.ts';

const { dir, vectors, dim } = await demoEmbeddings();
const roots: string[] = [];
afterAll(async () => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

function norm(rows: Float32Array, row: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += rows[row * dim + d]! ** 2;
  return Math.sqrt(sum);
}

describe('unit-length item rows', () => {
  it('reads the embeddings file exactly', async () => {
    const bytes = await readFile(join(dir, 'item_embeddings.f32'));
    expect(Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).equals(bytes)).toBe(true);
  });

  it('uses the trained rows as they are when they are unit length, and normalises rows that are not, with the same similarities', async () => {
    const trained = await loadModel(dir, { annKind: 'exact' });
    const { root, version } = await privateArtifacts();
    roots.push(root);
    // The same version with every row three times as long: the loader must normalise a copy.
    await writeFile(join(root, version, 'item_embeddings.f32'), Buffer.from(Float32Array.from(vectors, (v) => v * 3).buffer));
    const scaled = await loadModel(join(root, version), { annKind: 'exact' });
    try {
      const rows = vectors.length / dim;
      for (const r of [0, 1, Math.floor(rows / 2), rows - 1]) {
        expect(norm(trained.unitEmbeddings, r)).toBeCloseTo(1, 5);
        expect(norm(scaled.unitEmbeddings, r)).toBeCloseTo(1, 5);
      }
      for (const [a, b] of [[1, 2], [5, 900], [rows, 17]] as const) {
        let cosine = 0;
        for (let d = 0; d < dim; d++) cosine += vectors[(a - 1) * dim + d]! * vectors[(b - 1) * dim + d]!;
        cosine /= norm(vectors, a - 1) * norm(vectors, b - 1);
        expect(trained.itemSimilarity(a, b)).toBeCloseTo(cosine, 5);
        expect(scaled.itemSimilarity(a, b)).toBeCloseTo(cosine, 5);
      }
    } finally {
      await Promise.all([trained.dispose(), scaled.dispose()]);
    }
  });
});
