/** The ONNX int64 inputs built from int32 words (adapters/onnx/execution.ts toInt64) equal BigInt conversion, sign included. */
import { describe, expect, it } from 'vitest';
import { int64Tensor, toInt64 } from '../../adapters/onnx/execution.ts';

describe('toInt64', () => {
  it('equals BigInt64Array.from(values, BigInt) for zero, extremes, negatives and random values', () => {
    const values = new Int32Array([0, 1, -1, 2, -2, 2_147_483_647, -2_147_483_648, 123_456, -987_654, ...Array.from({ length: 5000 }, (_, i) => ((i * 2_654_435_761) | 0))]);
    expect([...toInt64(values)]).toEqual([...BigInt64Array.from(values, (v) => BigInt(v))]);
  });

  it('builds a tensor of type int64 with the given shape', () => {
    const tensor = int64Tensor(new Int32Array([3, -4, 5, 6]), [2, 2]);
    expect(tensor.type).toBe('int64');
    expect(tensor.dims).toEqual([2, 2]);
    expect([...(tensor.data as BigInt64Array)]).toEqual([3n, -4n, 5n, 6n]);
  });
});
