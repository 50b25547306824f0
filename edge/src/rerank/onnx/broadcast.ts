/**
 * Numpy-style broadcasting for the TypeScript ONNX runtime. An input broadcast to an output shape is read
 * through a plan: identity (same shape), `k % size` (its shape is a suffix of the output's once leading 1s are
 * dropped: a bias, a scalar — the common cases), or explicit source offsets (anything else).
 */
import { sizeOf, strides } from './tensor.ts';

/** Broadcast shape of two shapes. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
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

/** One object shape for every plan, so reading it stays monomorphic. modulo 0: use `offsets`. */
export interface BroadcastPlan {
  modulo: number;
  offsets: Int32Array;
}

const NO_OFFSETS = new Int32Array(0);

export function broadcastPlan(from: readonly number[], dims: readonly number[]): BroadcastPlan {
  let first = 0;
  while (first < from.length && from[first] === 1) first++;
  const core = from.slice(first);
  const suffix = core.length <= dims.length && core.every((d, i) => d === dims[dims.length - core.length + i]);
  if (suffix) return { modulo: Math.max(1, sizeOf(core)), offsets: NO_OFFSETS };
  return { modulo: 0, offsets: broadcastOffsets(from, dims) };
}

export function at(plan: BroadcastPlan, k: number): number {
  return plan.modulo > 0 ? k % plan.modulo : (plan.offsets[k] ?? 0);
}

/** Source offset of every output element (the general case). */
function broadcastOffsets(from: readonly number[], dims: readonly number[]): Int32Array {
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
