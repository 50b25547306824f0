/**
 * Reads the parts of an ONNX model (protobuf, onnx.proto3) that inference needs: the graph's nodes with their
 * attributes, initializers, inputs and outputs. protobufjs's wire-format Reader does the decoding (the same
 * library onnxruntime-web ships with); the field numbers below are onnx.proto3's. External data, sparse
 * initializers and sub-graphs are not supported and fail loudly.
 */
import * as protobufModule from 'protobufjs/minimal.js';
import { tensorFromRaw, type DType, type Tensor } from './tensor.ts';

// protobufjs is CommonJS: Node's ESM loader exposes it as `default`, bundlers as the namespace itself.
const protobuf = (protobufModule as { default?: typeof protobufModule }).default ?? protobufModule;

export type AttributeValue = number | number[] | string | Tensor;

export interface OnnxNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface OnnxGraph {
  opset: number;
  nodes: OnnxNode[];
  initializers: Map<string, Tensor>;
  inputs: string[];
  outputs: string[];
}

type Reader = protobufModule.Reader;
type LongLike = number | { toNumber(): number };

const toNumber = (v: LongLike): number => (typeof v === 'number' ? v : v.toNumber());
const utf8 = new TextDecoder();

/** Calls `field(number, wireType)` for each field of the message ending at `end`. */
function fields(reader: Reader, end: number, field: (no: number, wire: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (!field(tag >>> 3, tag & 7)) reader.skipType(tag & 7);
  }
}

function repeatedInt64(reader: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const end = reader.uint32() + reader.pos;
    while (reader.pos < end) into.push(toNumber(reader.int64() as unknown as LongLike));
  } else into.push(toNumber(reader.int64() as unknown as LongLike));
}

function repeatedFloat(reader: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const end = reader.uint32() + reader.pos;
    while (reader.pos < end) into.push(reader.float());
  } else into.push(reader.float());
}

const DTYPES: Record<number, DType> = { 1: 'float32', 7: 'int64', 9: 'bool' };

function readTensor(reader: Reader, end: number): { name: string; tensor: Tensor } {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | null = null;
  const floats: number[] = [];
  const int64s: number[] = [];
  let external = false;
  fields(reader, end, (no, wire) => {
    if (no === 1) repeatedInt64(reader, wire, dims);
    else if (no === 2) dataType = reader.int32();
    else if (no === 4) repeatedFloat(reader, wire, floats);
    else if (no === 7) repeatedInt64(reader, wire, int64s);
    else if (no === 8) name = reader.string();
    else if (no === 9) raw = reader.bytes();
    else if (no === 14) external = reader.int32() === 1;
    else return false;
    return true;
  });
  const dtype = DTYPES[dataType];
  if (dtype === undefined) throw new Error(`tensor ${name}: ONNX data type ${dataType} is not supported`);
  if (external) throw new Error(`tensor ${name}: external data is not supported`);
  const values = dtype === 'float32' ? floats : int64s;
  return { name, tensor: tensorFromRaw(dtype, dims, raw, values) };
}

function readAttribute(reader: Reader, end: number): { name: string; value: AttributeValue } {
  let name = '';
  let value: AttributeValue | undefined;
  const ints: number[] = [];
  const floats: number[] = [];
  let type = 0;
  fields(reader, end, (no, wire) => {
    if (no === 1) name = reader.string();
    else if (no === 2) value = reader.float();
    else if (no === 3) value = toNumber(reader.int64() as unknown as LongLike);
    else if (no === 4) value = utf8.decode(reader.bytes());
    else if (no === 5) value = readTensor(reader, reader.uint32() + reader.pos).tensor;
    else if (no === 7) repeatedFloat(reader, wire, floats);
    else if (no === 8) repeatedInt64(reader, wire, ints);
    else if (no === 20) type = reader.int32();
    else if (no === 6 || no === 11) throw new Error(`attribute ${name}: sub-graphs are not supported`);
    else return false;
    return true;
  });
  // AttributeType: 6 = FLOATS, 7 = INTS.
  if (type === 7 || (value === undefined && ints.length > 0)) value = ints;
  else if (type === 6 || (value === undefined && floats.length > 0)) value = floats;
  return { name, value: value ?? [] };
}

function readNode(reader: Reader, end: number): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  fields(reader, end, (no) => {
    if (no === 1) node.inputs.push(reader.string());
    else if (no === 2) node.outputs.push(reader.string());
    else if (no === 4) node.opType = reader.string();
    else if (no === 7) node.domain = reader.string();
    else if (no === 5) {
      const attribute = readAttribute(reader, reader.uint32() + reader.pos);
      node.attributes.set(attribute.name, attribute.value);
    } else return false;
    return true;
  });
  return node;
}

function readValueInfoName(reader: Reader, end: number): string {
  let name = '';
  fields(reader, end, (no) => {
    if (no !== 1) return false;
    name = reader.string();
    return true;
  });
  return name;
}

function readGraph(reader: Reader, end: number): Omit<OnnxGraph, 'opset'> {
  const graph: Omit<OnnxGraph, 'opset'> = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  fields(reader, end, (no) => {
    if (no === 1) graph.nodes.push(readNode(reader, reader.uint32() + reader.pos));
    else if (no === 5) {
      const { name, tensor } = readTensor(reader, reader.uint32() + reader.pos);
      graph.initializers.set(name, tensor);
    } else if (no === 11) graph.inputs.push(readValueInfoName(reader, reader.uint32() + reader.pos));
    else if (no === 12) graph.outputs.push(readValueInfoName(reader, reader.uint32() + reader.pos));
    else if (no === 15) throw new Error('sparse initializers are not supported');
    else return false;
    return true;
  });
  return graph;
}

/** Decodes an ONNX model file. */
export function readOnnxModel(bytes: Uint8Array): OnnxGraph {
  const reader = protobuf.Reader.create(bytes);
  let graph: Omit<OnnxGraph, 'opset'> | null = null;
  let opset = 0;
  fields(reader, reader.len, (no) => {
    if (no === 7) graph = readGraph(reader, reader.uint32() + reader.pos);
    else if (no === 8) {
      const end = reader.uint32() + reader.pos;
      let domain = '';
      let version = 0;
      fields(reader, end, (field) => {
        if (field === 1) domain = reader.string();
        else if (field === 2) version = toNumber(reader.int64() as unknown as LongLike);
        else return false;
        return true;
      });
      if (domain === '' || domain === 'ai.onnx') opset = version;
    } else return false;
    return true;
  });
  if (!graph) throw new Error('not an ONNX model: no graph');
  const found: Omit<OnnxGraph, 'opset'> = graph;
  // Graph inputs may also list initializers (older exporters): only the true feeds count.
  return { ...found, opset, inputs: found.inputs.filter((name) => !found.initializers.has(name)) };
}
