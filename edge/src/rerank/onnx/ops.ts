/**
 * The ONNX operators the plain-TypeScript runtime implements (default domain, opset 13+ semantics), with
 * numpy-style broadcasting where ONNX specifies it. Enough for small MLP-style rerankers: embeddings
 * (Gather), MatMul/Gemm, element-wise arithmetic and activations, Concat, shape ops, reductions, Softmax.
 * An operator not listed here makes model loading fail, so the worker degrades to slate order
 * (`rerank-failed`) and the parity test (test/edge/reranker-parity.test.ts) fails for a new architecture.
 */
import { alloc, axisOf, sizeOf, strides, tensor, type DType, type Tensor } from './tensor.ts';
import type { AttributeValue } from './model.ts';

export type Attributes = ReadonlyMap<string, AttributeValue>;
export type Op = (inputs: readonly (Tensor | undefined)[], attributes: Attributes) => Tensor[];

const intAttr = (a: Attributes, name: string, fallback: number): number => {
  const v = a.get(name);
  return typeof v === 'number' ? v : fallback;
};
const floatAttr = intAttr;
const intsAttr = (a: Attributes, name: string): number[] | undefined => {
  const v = a.get(name);
  return Array.isArray(v) ? v : undefined;
};

function need(t: Tensor | undefined, what: string): Tensor {
  if (!t) throw new Error(`missing input: ${what}`);
  return t;
}

/** Broadcast shape of two shapes (numpy rules). */
function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Source offsets of every output element for an input broadcast to `dims`. */
function broadcastIndex(from: readonly number[], dims: readonly number[]): Int32Array | null {
  if (from.length === dims.length && from.every((d, i) => d === dims[i])) return null; // same shape: identity
  const n = sizeOf(dims);
  const out = new Int32Array(n);
  const rank = dims.length;
  const fromStrides = strides(from);
  const effective = dims.map((_, i) => {
    const j = i - (rank - from.length);
    return j < 0 || from[j] === 1 ? 0 : (fromStrides[j] ?? 0);
  });
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    out[k] = offset;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d] = (counter[d] ?? 0) + 1;
      offset += effective[d] ?? 0;
      if ((counter[d] ?? 0) < (dims[d] ?? 1)) break;
      offset -= (effective[d] ?? 0) * (dims[d] ?? 1);
      counter[d] = 0;
    }
  }
  return out;
}

function binary(dtypeOf: (a: Tensor) => DType, f: (x: number, y: number) => number): Op {
  return ([a0, b0]) => {
    const a = need(a0, 'A');
    const b = need(b0, 'B');
    const dims = broadcastDims(a.dims, b.dims);
    const out = alloc(dtypeOf(a), dims);
    const ia = broadcastIndex(a.dims, dims);
    const ib = broadcastIndex(b.dims, dims);
    for (let k = 0; k < out.data.length; k++) out.data[k] = f(a.data[ia ? (ia[k] ?? 0) : k] ?? 0, b.data[ib ? (ib[k] ?? 0) : k] ?? 0);
    return [out];
  };
}

function unary(f: (x: number) => number): Op {
  return ([x0]) => {
    const x = need(x0, 'X');
    const out = alloc(x.dtype, [...x.dims]);
    for (let k = 0; k < x.data.length; k++) out.data[k] = f(x.data[k] ?? 0);
    return [out];
  };
}

const same = (a: Tensor): DType => a.dtype;
const toBool = (): DType => 'bool';

function gather([data0, indices0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const data = need(data0, 'data');
  const indices = need(indices0, 'indices');
  const axis = axisOf(intAttr(attributes, 'axis', 0), data.dims.length);
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const n = data.dims[axis] ?? 0;
  const out = alloc(data.dtype, [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)]);
  const count = indices.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      let index = indices.data[j] ?? 0;
      if (index < 0) index += n;
      if (index < 0 || index >= n) throw new Error(`Gather index ${indices.data[j]} out of range [0, ${n})`);
      const from = (o * n + index) * inner;
      out.data.set(data.data.subarray(from, from + inner), (o * count + j) * inner);
    }
  }
  return [out];
}

function concat(inputs: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const parts = inputs.map((t, i) => need(t, `input ${i}`));
  const first = need(parts[0], 'input 0');
  const axis = axisOf(intAttr(attributes, 'axis', 0), first.dims.length);
  const dims = [...first.dims];
  dims[axis] = parts.reduce((n, t) => n + (t.dims[axis] ?? 0), 0);
  const out = alloc(first.dtype, dims);
  const outer = sizeOf(first.dims.slice(0, axis));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const block = sizeOf(part.dims.slice(axis));
      out.data.set(part.data.subarray(o * block, (o + 1) * block), offset);
      offset += block;
    }
  }
  return [out];
}

/** Matrix product of the last two dimensions, batch dimensions broadcast (numpy.matmul). */
function matmul([a0, b0]: readonly (Tensor | undefined)[]): Tensor[] {
  let a = need(a0, 'A');
  let b = need(b0, 'B');
  const aVector = a.dims.length === 1;
  const bVector = b.dims.length === 1;
  if (aVector) a = { ...a, dims: [1, ...a.dims] };
  if (bVector) b = { ...b, dims: [...b.dims, 1] };
  const m = a.dims[a.dims.length - 2] ?? 1;
  const k = a.dims[a.dims.length - 1] ?? 1;
  const n = b.dims[b.dims.length - 1] ?? 1;
  if ((b.dims[b.dims.length - 2] ?? 1) !== k) throw new Error(`MatMul shapes [${a.dims}] x [${b.dims}] do not match`);
  const batch = broadcastDims(a.dims.slice(0, -2), b.dims.slice(0, -2));
  const out = alloc('float32', [...batch, m, n]);
  const ia = broadcastIndex(a.dims.slice(0, -2), batch);
  const ib = broadcastIndex(b.dims.slice(0, -2), batch);
  const batches = sizeOf(batch);
  for (let q = 0; q < batches; q++) {
    const aBase = (ia ? (ia[q] ?? 0) : q) * m * k;
    const bBase = (ib ? (ib[q] ?? 0) : q) * k * n;
    const oBase = q * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += (a.data[aBase + i * k + p] ?? 0) * (b.data[bBase + p * n + j] ?? 0);
        out.data[oBase + i * n + j] = sum;
      }
    }
  }
  let dims = out.dims;
  if (aVector) dims = [...dims.slice(0, -2), ...dims.slice(-1)];
  if (bVector) dims = dims.slice(0, -1);
  return [{ ...out, dims }];
}

/** Y = alpha · op(A) · op(B) + beta · C. */
function gemm([a0, b0, c0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const transpose2d = (t: Tensor): Tensor => {
    const [r = 1, c = 1] = t.dims;
    const out = alloc(t.dtype, [c, r]);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[j * r + i] = t.data[i * c + j] ?? 0;
    return out;
  };
  const a = intAttr(attributes, 'transA', 0) ? transpose2d(need(a0, 'A')) : need(a0, 'A');
  const b = intAttr(attributes, 'transB', 0) ? transpose2d(need(b0, 'B')) : need(b0, 'B');
  const [product] = matmul([a, b]);
  const y = need(product, 'product');
  const alpha = floatAttr(attributes, 'alpha', 1);
  const beta = floatAttr(attributes, 'beta', 1);
  for (let k = 0; k < y.data.length; k++) y.data[k] = (y.data[k] ?? 0) * alpha;
  if (!c0) return [y];
  const [sum] = binary(same, (x, c) => x + beta * c)([y, c0], new Map());
  return [need(sum, 'sum')];
}

/** Axes from the second input (opset ≥ 13) or the `axes` attribute (older opsets). */
function axesOf(input: Tensor | undefined, attributes: Attributes): number[] | undefined {
  if (input) return Array.from(input.data);
  return intsAttr(attributes, 'axes');
}

function unsqueeze([x0, axes0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const x = need(x0, 'data');
  const axes = axesOf(axes0, attributes) ?? [];
  const rank = x.dims.length + axes.length;
  const normalised = new Set(axes.map((a) => axisOf(a, rank)));
  const dims: number[] = [];
  let from = 0;
  for (let i = 0; i < rank; i++) dims.push(normalised.has(i) ? 1 : (x.dims[from++] ?? 1));
  return [{ ...x, dims }];
}

function squeeze([x0, axes0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const x = need(x0, 'data');
  const axes = axesOf(axes0, attributes);
  const drop = new Set(axes ? axes.map((a) => axisOf(a, x.dims.length)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const axis of drop) if (x.dims[axis] !== 1) throw new Error(`Squeeze of axis ${axis} with size ${x.dims[axis]}`);
  return [{ ...x, dims: x.dims.filter((_, i) => !drop.has(i)) }];
}

function reshape([x0, shape0]: readonly (Tensor | undefined)[]): Tensor[] {
  const x = need(x0, 'data');
  const shape = Array.from(need(shape0, 'shape').data).map((d, i) => (d === 0 ? (x.dims[i] ?? 1) : d));
  const known = shape.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
  return [{ ...x, dims: shape.map((d) => (d === -1 ? x.data.length / known : d)) }];
}

function reduce(kind: 'sum' | 'mean'): Op {
  return ([x0, axes0], attributes) => {
    const x = need(x0, 'data');
    const keep = intAttr(attributes, 'keepdims', 1) === 1;
    const listed = axesOf(axes0, attributes);
    const axes = new Set(
      listed && listed.length > 0 ? listed.map((a) => axisOf(a, x.dims.length)) : intAttr(attributes, 'noop_with_empty_axes', 0) ? [] : x.dims.map((_, i) => i),
    );
    if (axes.size === 0) return [x];
    const keptDims = x.dims.map((d, i) => (axes.has(i) ? 1 : d));
    const out = alloc(x.dtype, keptDims);
    const index = broadcastIndex(keptDims, x.dims);
    const outStrides = strides(keptDims);
    const inStrides = strides(x.dims);
    for (let k = 0; k < x.data.length; k++) {
      let target = 0;
      if (index) {
        // position of element k in the reduced tensor
        let rest = k;
        for (let d = 0; d < x.dims.length; d++) {
          const coordinate = Math.floor(rest / (inStrides[d] ?? 1));
          rest -= coordinate * (inStrides[d] ?? 1);
          if (!axes.has(d)) target += coordinate * (outStrides[d] ?? 0);
        }
      }
      out.data[target] = (out.data[target] ?? 0) + (x.data[k] ?? 0);
    }
    if (kind === 'mean') {
      const count = x.data.length / out.data.length;
      for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] ?? 0) / count;
    }
    return [keep ? out : { ...out, dims: x.dims.filter((_, i) => !axes.has(i)) }];
  };
}

function softmax([x0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const x = need(x0, 'input');
  const axis = axisOf(intAttr(attributes, 'axis', -1), x.dims.length);
  const size = x.dims[axis] ?? 1;
  const inner = sizeOf(x.dims.slice(axis + 1));
  const outer = sizeOf(x.dims.slice(0, axis));
  const out = alloc('float32', [...x.dims]);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number): number => (o * size + j) * inner + i;
      let max = -Infinity;
      for (let j = 0; j < size; j++) max = Math.max(max, x.data[at(j)] ?? 0);
      let sum = 0;
      for (let j = 0; j < size; j++) sum += Math.exp((x.data[at(j)] ?? 0) - max);
      for (let j = 0; j < size; j++) out.data[at(j)] = Math.exp((x.data[at(j)] ?? 0) - max) / sum;
    }
  }
  return [out];
}

function cast([x0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const x = need(x0, 'input');
  const to = intAttr(attributes, 'to', 1);
  const dtype: DType | undefined = to === 1 ? 'float32' : to === 7 ? 'int64' : to === 9 ? 'bool' : undefined;
  if (!dtype) throw new Error(`Cast to ONNX type ${to} is not supported`);
  const values = Array.from(x.data, (v) => (dtype === 'int64' ? Math.trunc(v) : dtype === 'bool' ? (v !== 0 ? 1 : 0) : v));
  return [tensor(dtype, [...x.dims], values)];
}

function clip([x0, min0, max0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const min = min0 ? (min0.data[0] ?? -Infinity) : floatAttr(attributes, 'min', -Infinity);
  const max = max0 ? (max0.data[0] ?? Infinity) : floatAttr(attributes, 'max', Infinity);
  return unary((v) => Math.min(max, Math.max(min, v)))([x0], attributes);
}

function transpose([x0]: readonly (Tensor | undefined)[], attributes: Attributes): Tensor[] {
  const x = need(x0, 'data');
  const perm = intsAttr(attributes, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
  const dims = perm.map((p) => x.dims[p] ?? 1);
  const out = alloc(x.dtype, dims);
  const inStrides = strides(x.dims);
  const outStrides = strides(dims);
  for (let k = 0; k < out.data.length; k++) {
    let rest = k;
    let from = 0;
    for (let d = 0; d < dims.length; d++) {
      const coordinate = Math.floor(rest / (outStrides[d] ?? 1));
      rest -= coordinate * (outStrides[d] ?? 1);
      from += coordinate * (inStrides[perm[d] ?? 0] ?? 0);
    }
    out.data[k] = x.data[from] ?? 0;
  }
  return [out];
}

export const OPS: Readonly<Record<string, Op>> = {
  Identity: ([x]) => [need(x, 'input')],
  Constant: (_, attributes) => {
    const value = attributes.get('value');
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('Constant without a tensor value');
    return [value];
  },
  Gather: gather,
  Concat: concat,
  MatMul: matmul,
  Gemm: gemm,
  Add: binary(same, (x, y) => x + y),
  Sub: binary(same, (x, y) => x - y),
  Mul: binary(same, (x, y) => x * y),
  Div: ([a, b], attributes) => {
    const [quotient] = binary(same, (x, y) => x / y)([a, b], attributes);
    const out = need(quotient, 'quotient');
    if (out.dtype === 'int64') for (let k = 0; k < out.data.length; k++) out.data[k] = Math.trunc(out.data[k] ?? 0);
    return [out];
  },
  Greater: binary(toBool, (x, y) => (x > y ? 1 : 0)),
  Less: binary(toBool, (x, y) => (x < y ? 1 : 0)),
  Equal: binary(toBool, (x, y) => (x === y ? 1 : 0)),
  Relu: unary((x) => (x > 0 ? x : 0)),
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary(Math.tanh),
  Softmax: softmax,
  Cast: cast,
  Clip: clip,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Reshape: reshape,
  Transpose: transpose,
  ReduceSum: reduce('sum'),
  ReduceMean: reduce('mean'),
};
