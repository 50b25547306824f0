/** Operator signature and attribute helpers shared by the TypeScript runtime's kernels. */
import type { AttributeValue } from './model.ts';
import type { Tensor } from './tensor.ts';

export type Attributes = ReadonlyMap<string, AttributeValue>;
export type Op = (inputs: readonly (Tensor | undefined)[], attributes: Attributes) => Tensor[];

export function intAttr(a: Attributes, name: string, fallback: number): number {
  const v = a.get(name);
  return typeof v === 'number' ? v : fallback;
}

export function intsAttr(a: Attributes, name: string): number[] | undefined {
  const v = a.get(name);
  return Array.isArray(v) ? v : undefined;
}

export function need(t: Tensor | undefined, what: string): Tensor {
  if (!t) throw new Error(`missing input: ${what}`);
  return t;
}

/** Axes from the second input (opset ≥ 13) or the `axes` attribute (older opsets). */
export function axesOf(input: Tensor | undefined, attributes: Attributes): number[] | undefined {
  if (input) return Array.from(input.data);
  return intsAttr(attributes, 'axes');
}
