/**
 * Tensors of the plain-TypeScript ONNX runtime: float32 values in a Float32Array (results are rounded to
 * float32 after every op, as onnxruntime does), int64 values in a Float64Array (exact up to 2^53, ample for
 * indices and shapes), bool in a Uint8Array. Row-major, like ONNX.
 */
export type DType = 'float32' | 'int64' | 'bool';

export interface Tensor {
  dtype: DType;
  dims: number[];
  data: Float32Array | Float64Array | Uint8Array;
}

export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

export function alloc(dtype: DType, dims: number[]): Tensor {
  const n = sizeOf(dims);
  const data = dtype === 'float32' ? new Float32Array(n) : dtype === 'int64' ? new Float64Array(n) : new Uint8Array(n);
  return { dtype, dims, data };
}

export function tensor(dtype: DType, dims: number[], values: ArrayLike<number>): Tensor {
  const out = alloc(dtype, dims);
  if (values.length !== out.data.length) throw new Error(`tensor of shape [${dims}] needs ${out.data.length} values, got ${values.length}`);
  out.data.set(values);
  return out;
}

/** From a TensorProto's raw_data (little-endian, as ONNX specifies) or its typed value list. */
export function tensorFromRaw(dtype: DType, dims: number[], raw: Uint8Array | null, values: readonly number[]): Tensor {
  if (raw === null || raw.length === 0) return tensor(dtype, dims, values);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = alloc(dtype, dims);
  const width = dtype === 'float32' ? 4 : dtype === 'int64' ? 8 : 1;
  if (raw.length !== out.data.length * width) throw new Error(`raw tensor data of ${raw.length} bytes does not fit shape [${dims}]`);
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : dtype === 'int64' ? Number(view.getBigInt64(i * 8, true)) : view.getUint8(i);
  }
  return out;
}

/** Strides of a row-major shape. */
export function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) out[i] = (out[i + 1] ?? 1) * (dims[i + 1] ?? 1);
  return out;
}

/** Normalises a possibly negative axis for a tensor of `rank` dimensions. */
export function axisOf(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}
