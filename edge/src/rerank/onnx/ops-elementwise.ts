/**
 * Element-wise operators with broadcasting: Add, Sub, Mul, Div, Greater, Less, Equal, Relu, Sigmoid, Tanh,
 * Clip. Each kernel is its own function with its own loop, so V8 keeps every loop monomorphic (one shared
 * loop calling an operator callback per element ran ten times slower).
 */
import { at, broadcastDims, broadcastPlan, type BroadcastPlan } from './broadcast.ts';
import { intAttr, need, type Op } from './op-types.ts';
import { alloc, roundFloat32, type DType, type Tensor } from './tensor.ts';

type Kernel = (a: Float64Array, pa: BroadcastPlan, b: Float64Array, pb: BroadcastPlan, out: Float64Array) => void;

function binary(kernel: Kernel, result: 'same' | 'bool'): Op {
  return ([a0, b0]) => {
    const a = need(a0, 'A');
    const b = need(b0, 'B');
    const dims = broadcastDims(a.dims, b.dims);
    const dtype: DType = result === 'bool' ? 'bool' : a.dtype;
    const out = alloc(dtype, dims);
    kernel(a.data, broadcastPlan(a.dims, dims), b.data, broadcastPlan(b.dims, dims), out.data);
    if (dtype === 'int64') for (let k = 0; k < out.data.length; k++) out.data[k] = Math.trunc(out.data[k] ?? 0); // integer Div
    return [roundFloat32(out)];
  };
}

const add: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) + (b[at(pb, k)] ?? 0);
};
const sub: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) - (b[at(pb, k)] ?? 0);
};
const mul: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) * (b[at(pb, k)] ?? 0);
};
const div: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) / (b[at(pb, k)] ?? 0);
};
const greater: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) > (b[at(pb, k)] ?? 0) ? 1 : 0;
};
const less: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) < (b[at(pb, k)] ?? 0) ? 1 : 0;
};
const equal: Kernel = (a, pa, b, pb, o) => {
  for (let k = 0; k < o.length; k++) o[k] = (a[at(pa, k)] ?? 0) === (b[at(pb, k)] ?? 0) ? 1 : 0;
};

function unary(kernel: (x: Float64Array, out: Float64Array) => void): Op {
  return ([x0]) => {
    const x = need(x0, 'X');
    const out = alloc(x.dtype, [...x.dims]);
    kernel(x.data, out.data);
    return [roundFloat32(out)];
  };
}

function clip(x: Tensor, min: number, max: number): Tensor {
  const out = alloc(x.dtype, [...x.dims]);
  for (let k = 0; k < x.data.length; k++) out.data[k] = Math.min(max, Math.max(min, x.data[k] ?? 0));
  return out;
}

export const ELEMENTWISE: Readonly<Record<string, Op>> = {
  Add: binary(add, 'same'),
  Sub: binary(sub, 'same'),
  Mul: binary(mul, 'same'),
  Div: binary(div, 'same'),
  Greater: binary(greater, 'bool'),
  Less: binary(less, 'bool'),
  Equal: binary(equal, 'bool'),
  Relu: unary((x, o) => {
    for (let k = 0; k < o.length; k++) o[k] = Math.max(0, x[k] ?? 0);
  }),
  Sigmoid: unary((x, o) => {
    for (let k = 0; k < o.length; k++) o[k] = 1 / (1 + Math.exp(-(x[k] ?? 0)));
  }),
  Tanh: unary((x, o) => {
    for (let k = 0; k < o.length; k++) o[k] = Math.tanh(x[k] ?? 0);
  }),
  Clip: ([x0, min0, max0], attributes) => {
    // opset ≥ 11: bounds are optional inputs; older opsets: attributes.
    const min = min0 ? (min0.data[0] ?? -Infinity) : attributes.has('min') ? intAttr(attributes, 'min', -Infinity) : -Infinity;
    const max = max0 ? (max0.data[0] ?? Infinity) : attributes.has('max') ? intAttr(attributes, 'max', Infinity) : Infinity;
    return [clip(need(x0, 'input'), min, max)];
  },
};
