import { describe, expect, it } from 'vitest';
import { decodeEmbeddings, encodeEmbeddings } from '../../models/export/embeddings.ts';
import { createRng } from '../../shared/util/rng.ts';

/** L2-normalised random rows, like the item tower's output. */
function rows(count: number, dim: number): Float32Array {
  const rng = createRng(3);
  const out = Float32Array.from({ length: count * dim }, () => rng.normal());
  for (let r = 0; r < count; r++) {
    const row = out.subarray(r * dim, (r + 1) * dim);
    const norm = Math.hypot(...row);
    row.forEach((v, d) => { row[d] = v / norm; });
  }
  return out;
}

describe('item-embedding encodings', () => {
  const values = rows(200, 32);
  const maxError = (a: Float32Array, b: Float32Array): number => Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] ?? NaN))));

  it('float32 is lossless and 4 bytes per value', () => {
    const { bytes } = encodeEmbeddings(values, 'float32');
    expect(bytes.byteLength).toBe(values.length * 4);
    expect(decodeEmbeddings(bytes, 'float32')).toEqual(values);
  });

  it('float16 is 2 bytes per value and within half-precision rounding', () => {
    const { bytes } = encodeEmbeddings(values, 'float16');
    expect(bytes.byteLength).toBe(values.length * 2);
    expect(maxError(decodeEmbeddings(bytes, 'float16'), values)).toBeLessThan(5e-4);
  });

  it('int8 is 1 byte per value; value = int8 × scale within half a step', () => {
    const { bytes, scale } = encodeEmbeddings(values, 'int8');
    expect(bytes.byteLength).toBe(values.length);
    expect(scale).toBeGreaterThan(0);
    expect(maxError(decodeEmbeddings(bytes, 'int8', scale), values)).toBeLessThanOrEqual((scale ?? 0) / 2 + 1e-7);
    // Ranking by dot product barely moves: the top item for a query row stays the same.
    const decoded = decodeEmbeddings(bytes, 'int8', scale);
    const query = values.subarray(0, 32);
    const best = (table: Float32Array): number => {
      let top = -1; let topScore = -Infinity;
      for (let r = 0; r < 200; r++) {
        let s = 0;
        for (let d = 0; d < 32; d++) s += (query[d] ?? 0) * (table[r * 32 + d] ?? 0);
        if (s > topScore) { topScore = s; top = r; }
      }
      return top;
    };
    expect(best(decoded)).toBe(best(values));
  });
});
