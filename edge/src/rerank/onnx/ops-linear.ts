/** MatMul (numpy.matmul, batch dimensions broadcast) and Gemm for the TypeScript ONNX runtime. */
import { at, broadcastDims, broadcastPlan } from './broadcast.ts';
import { intAttr, need, type Op } from './op-types.ts';
import { ELEMENTWISE } from './ops-elementwise.ts';
import { alloc, roundFloat32, sizeOf, type Tensor } from './tensor.ts';

/**
 * B transposed (n × k), cached by identity: weights are initializers, the same arrays on every run, so each
 * is transposed once and every dot product then reads both operands contiguously.
 */
const transposed = new WeakMap<Float64Array, Float64Array>();

function transposedOf(b: Float64Array, k: number, n: number): Float64Array {
  let t = transposed.get(b);
  if (!t) {
    t = new Float64Array(k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) t[j * k + p] = b[p * n + j]!;
    transposed.set(b, t);
  }
  return t;
}

function matmul(a0: Tensor, b0: Tensor): Tensor {
  const aVector = a0.dims.length === 1;
  const bVector = b0.dims.length === 1;
  const a = aVector ? { ...a0, dims: [1, ...a0.dims] } : a0;
  const b = bVector ? { ...b0, dims: [...b0.dims, 1] } : b0;
  const m = a.dims[a.dims.length - 2] ?? 1;
  const k = a.dims[a.dims.length - 1] ?? 1;
  const n = b.dims[b.dims.length - 1] ?? 1;
  if ((b.dims[b.dims.length - 2] ?? 1) !== k) throw new Error(`MatMul shapes [${a.dims}] x [${b.dims}] do not match`);
  const batch = broadcastDims(a.dims.slice(0, -2), b.dims.slice(0, -2));
  const out = alloc('float32', [...batch, m, n]);
  const pa = broadcastPlan(a.dims.slice(0, -2), batch);
  const pb = broadcastPlan(b.dims.slice(0, -2), batch);
  const A = a.data;
  const O = out.data;
  const bMatrices = sizeOf(b.dims.slice(0, -2));
  const BT = bMatrices === 1 ? transposedOf(b.data, k, n) : null;
  // Dot products in double precision, rounded to float32 once; onnxruntime accumulates in float32, so results
  // differ in the last bits (parity-tested). Indices are in range by construction: `!` skips undefined checks.
  for (let q = 0, batches = sizeOf(batch); q < batches; q++) {
    const aBase = at(pa, q) * m * k;
    const bT = BT ?? transposedOf(b.data.subarray(at(pb, q) * k * n, (at(pb, q) + 1) * k * n), k, n);
    const oBase = q * m * n;
    for (let i = 0; i < m; i++) {
      const aRow = aBase + i * k;
      for (let j = 0; j < n; j++) {
        const bRow = j * k;
        let sum = 0;
        for (let p = 0; p < k; p++) sum += A[aRow + p]! * bT[bRow + p]!;
        O[oBase + i * n + j] = sum;
      }
    }
  }
  let dims = out.dims;
  if (aVector) dims = [...dims.slice(0, -2), ...dims.slice(-1)];
  if (bVector) dims = dims.slice(0, -1);
  return roundFloat32({ ...out, dims });
}

function transpose2d(t: Tensor): Tensor {
  const [r = 1, c = 1] = t.dims;
  const out = alloc(t.dtype, [c, r]);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[j * r + i] = t.data[i * c + j] ?? 0;
  return out;
}

export const LINEAR: Readonly<Record<string, Op>> = {
  MatMul: ([a, b]) => [matmul(need(a, 'A'), need(b, 'B'))],
  /** Y = alpha · op(A) · op(B) + beta · C */
  Gemm: ([a0, b0, c0], attributes) => {
    const a = intAttr(attributes, 'transA', 0) ? transpose2d(need(a0, 'A')) : need(a0, 'A');
    const b = intAttr(attributes, 'transB', 0) ? transpose2d(need(b0, 'B')) : need(b0, 'B');
    const y = matmul(a, b);
    const alpha = intAttr(attributes, 'alpha', 1);
    const beta = intAttr(attributes, 'beta', 1);
    for (let k = 0; k < y.data.length; k++) y.data[k] = (y.data[k] ?? 0) * alpha;
    if (!c0) return [roundFloat32(y)];
    const scaled = { ...c0, data: c0.data.map((v) => v * beta) };
    return ELEMENTWISE.Add!([y, scaled], new Map());
  },
};
