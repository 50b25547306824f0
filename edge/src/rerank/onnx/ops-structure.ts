/**
 * Operators that move or reduce values for the TypeScript ONNX runtime: Identity, Constant, Gather
 * (embedding lookups), Concat, Cast, Unsqueeze, Squeeze, Reshape, Transpose, ReduceSum, ReduceMean, Softmax.
 */
import { axesOf, intAttr, intsAttr, need, type Attributes, type Op } from './op-types.ts';
import { alloc, axisOf, roundFloat32, sizeOf, strides, type DType, type Tensor } from './tensor.ts';

type Inputs = readonly (Tensor | undefined)[];

function gather([data0, indices0]: Inputs, attributes: Attributes): Tensor[] {
  const data = need(data0, 'data');
  const indices = need(indices0, 'indices');
  const axis = axisOf(intAttr(attributes, 'axis', 0), data.dims.length);
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const n = data.dims[axis] ?? 0;
  const out = alloc(data.dtype, [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)]);
  const count = indices.data.length;
  const D = data.data;
  const O = out.data;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      let index = indices.data[j] ?? 0;
      if (index < 0) index += n;
      if (index < 0 || index >= n) throw new Error(`Gather index ${indices.data[j]} out of range [0, ${n})`);
      const from = (o * n + index) * inner;
      const to = (o * count + j) * inner;
      for (let e = 0; e < inner; e++) O[to + e] = D[from + e] ?? 0;
    }
  }
  return [out];
}

function concat(inputs: Inputs, attributes: Attributes): Tensor[] {
  const parts = inputs.map((t, i) => need(t, `input ${i}`));
  const first = need(parts[0], 'input 0');
  const axis = axisOf(intAttr(attributes, 'axis', 0), first.dims.length);
  const dims = [...first.dims];
  dims[axis] = parts.reduce((n, t) => n + (t.dims[axis] ?? 0), 0);
  const out = alloc(first.dtype, dims);
  const outer = sizeOf(first.dims.slice(0, axis));
  const O = out.data;
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const block = sizeOf(part.dims.slice(axis));
      const P = part.data;
      const from = o * block;
      for (let e = 0; e < block; e++) O[offset + e] = P[from + e] ?? 0;
      offset += block;
    }
  }
  return [out];
}

function cast([x0]: Inputs, attributes: Attributes): Tensor[] {
  const x = need(x0, 'input');
  const to = intAttr(attributes, 'to', 1);
  const dtype: DType | undefined = to === 1 ? 'float32' : to === 7 ? 'int64' : to === 9 ? 'bool' : undefined;
  if (!dtype) throw new Error(`Cast to ONNX type ${to} is not supported`);
  const out = alloc(dtype, [...x.dims]);
  for (let k = 0; k < x.data.length; k++) {
    const v = x.data[k] ?? 0;
    out.data[k] = dtype === 'int64' ? Math.trunc(v) : dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
  }
  return [roundFloat32(out)];
}

function unsqueeze([x0, axes0]: Inputs, attributes: Attributes): Tensor[] {
  const x = need(x0, 'data');
  const axes = axesOf(axes0, attributes) ?? [];
  const rank = x.dims.length + axes.length;
  const normalised = new Set(axes.map((a) => axisOf(a, rank)));
  const dims: number[] = [];
  let from = 0;
  for (let i = 0; i < rank; i++) dims.push(normalised.has(i) ? 1 : (x.dims[from++] ?? 1));
  return [{ ...x, dims }];
}

function squeeze([x0, axes0]: Inputs, attributes: Attributes): Tensor[] {
  const x = need(x0, 'data');
  const axes = axesOf(axes0, attributes);
  const drop = new Set(axes ? axes.map((a) => axisOf(a, x.dims.length)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const axis of drop) if (x.dims[axis] !== 1) throw new Error(`Squeeze of axis ${axis} with size ${x.dims[axis]}`);
  return [{ ...x, dims: x.dims.filter((_, i) => !drop.has(i)) }];
}

function reshape([x0, shape0]: Inputs): Tensor[] {
  const x = need(x0, 'data');
  const shape = Array.from(need(shape0, 'shape').data).map((d, i) => (d === 0 ? (x.dims[i] ?? 1) : d));
  const known = shape.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
  return [{ ...x, dims: shape.map((d) => (d === -1 ? x.data.length / known : d)) }];
}

function transpose([x0]: Inputs, attributes: Attributes): Tensor[] {
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
    const outStrides = strides(keptDims);
    const inStrides = strides(x.dims);
    for (let k = 0; k < x.data.length; k++) {
      let rest = k;
      let target = 0;
      for (let d = 0; d < x.dims.length; d++) {
        const coordinate = Math.floor(rest / (inStrides[d] ?? 1));
        rest -= coordinate * (inStrides[d] ?? 1);
        if (!axes.has(d)) target += coordinate * (outStrides[d] ?? 0);
      }
      out.data[target] = (out.data[target] ?? 0) + (x.data[k] ?? 0);
    }
    if (kind === 'mean') {
      const count = x.data.length / out.data.length;
      for (let k = 0; k < out.data.length; k++) out.data[k] = (out.data[k] ?? 0) / count;
    }
    roundFloat32(out);
    return [keep ? out : { ...out, dims: x.dims.filter((_, i) => !axes.has(i)) }];
  };
}

function softmax([x0]: Inputs, attributes: Attributes): Tensor[] {
  const x = need(x0, 'input');
  const axis = axisOf(intAttr(attributes, 'axis', -1), x.dims.length);
  const size = x.dims[axis] ?? 1;
  const inner = sizeOf(x.dims.slice(axis + 1));
  const outer = sizeOf(x.dims.slice(0, axis));
  const out = alloc('float32', [...x.dims]);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let max = -Infinity;
      for (let j = 0; j < size; j++) max = Math.max(max, x.data[base + j * inner] ?? 0);
      let sum = 0;
      for (let j = 0; j < size; j++) sum += Math.exp((x.data[base + j * inner] ?? 0) - max);
      for (let j = 0; j < size; j++) out.data[base + j * inner] = Math.exp((x.data[base + j * inner] ?? 0) - max) / sum;
    }
  }
  return [roundFloat32(out)];
}

export const STRUCTURE: Readonly<Record<string, Op>> = {
  Identity: ([x]) => [need(x, 'input')],
  Constant: (_, attributes) => {
    const value = attributes.get('value');
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('Constant without a tensor value');
    return [value];
  },
  Gather: gather,
  Concat: concat,
  Cast: cast,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Reshape: reshape,
  Transpose: transpose,
  ReduceSum: reduce('sum'),
  ReduceMean: reduce('mean'),
  Softmax: softmax,
};
