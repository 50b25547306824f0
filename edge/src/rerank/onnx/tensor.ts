/**
 * Tensors of the plain-TypeScript ONNX runtime. Every tensor keeps its values in a Float64Array whatever its
 * ONNX type — one array type keeps the kernels monomorphic, which V8 needs to run them fast — and `dtype`
 * carries the semantics: float32 values are rounded to float32 when written (Math.fround), as onnxruntime
 * rounds every op's result; int64 values are exact up to 2^53 (ample for indices and shapes); bool is 0/1.
 * Row-major, like ONNX.
 */
export type DType = 'float32' | 'int64' | 'bool';

export interface Tensor {
  dtype: DType;
  dims: number[];
  data: Float64Array;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function alloc(dtype: DType, dims: number[]): Tensor {
  return { dtype, dims, data: new Float64Array(sizeOf(dims)) };
}

/** Rounds a freshly computed float32 tensor's values in place. */
export function roundFloat32(t: Tensor): Tensor {
  if (t.dtype === 'float32') for (let k = 0; k < t.data.length; k++) t.data[k] = Math.fround(t.data[k] ?? 0);
  return t;
}

export function tensor(dtype: DType, dims: number[], values: ArrayLike<number>): Tensor {
  const out = alloc(dtype, dims);
  if (values.length !== out.data.length) throw new Error(`tensor of shape [${dims}] needs ${out.data.length} values, got ${values.length}`);
  for (let k = 0; k < values.length; k++) out.data[k] = values[k] ?? 0;
  return roundFloat32(out);
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
