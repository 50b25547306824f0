/**
 * Runs a decoded ONNX graph: nodes in file order (ONNX requires a topological order), every value kept by
 * name. Checks at load time that every operator is implemented and that the graph is in the default domain,
 * so an unsupported model fails when it is loaded, not in the middle of a request.
 */
import { readOnnxModel, type OnnxGraph } from './model.ts';
import { OPS } from './ops.ts';
import type { Tensor } from './tensor.ts';

export class TsOnnxSession {
  private readonly graph: OnnxGraph;

  private constructor(graph: OnnxGraph) {
    this.graph = graph;
  }

  static create(bytes: Uint8Array): TsOnnxSession {
    const graph = readOnnxModel(bytes);
    if (graph.opset < 13) throw new Error(`opset ${graph.opset}: the TypeScript runtime implements opset 13+ semantics`);
    const unsupported = [...new Set(graph.nodes.filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !OPS[n.opType]).map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`))];
    if (unsupported.length > 0) throw new Error(`operators not implemented by the TypeScript runtime: ${unsupported.join(', ')}`);
    return new TsOnnxSession(graph);
  }

  get inputNames(): readonly string[] {
    return this.graph.inputs;
  }

  get outputNames(): readonly string[] {
    return this.graph.outputs;
  }

  run(feeds: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const values = new Map<string, Tensor>(this.graph.initializers);
    for (const name of this.graph.inputs) {
      const feed = feeds[name];
      if (!feed) throw new Error(`missing input ${name}`);
      values.set(name, feed);
    }
    for (const node of this.graph.nodes) {
      const op = OPS[node.opType];
      if (!op) throw new Error(`operator ${node.opType} is not implemented`);
      const inputs = node.inputs.map((name) => (name === '' ? undefined : values.get(name)));
      node.inputs.forEach((name, i) => {
        if (name !== '' && inputs[i] === undefined) throw new Error(`${node.opType}: input ${name} was never computed`);
      });
      const outputs = op(inputs, node.attributes);
      node.outputs.forEach((name, i) => {
        const value = outputs[i];
        if (value && name !== '') values.set(name, value);
      });
    }
    const out: Record<string, Tensor> = {};
    for (const name of this.graph.outputs) {
      const value = values.get(name);
      if (!value) throw new Error(`output ${name} was never computed`);
      out[name] = value;
    }
    return out;
  }
}
