/**
 * The ONNX operators the plain-TypeScript runtime implements (default domain, opset 13+ semantics), with
 * numpy-style broadcasting where ONNX specifies it: enough for small MLP-style rerankers — embeddings
 * (Gather), MatMul/Gemm, element-wise arithmetic and activations, Concat, shape ops, reductions, Softmax.
 * A model using any other operator fails to load (TsOnnxSession.create names it), so the worker degrades to
 * slate order (`rerank-failed`) and the parity test (test/edge/reranker-parity.test.ts) fails loudly.
 */
import type { Op } from './op-types.ts';
import { ELEMENTWISE } from './ops-elementwise.ts';
import { LINEAR } from './ops-linear.ts';
import { STRUCTURE } from './ops-structure.ts';

export const OPS: Readonly<Record<string, Op>> = { ...ELEMENTWISE, ...LINEAR, ...STRUCTURE };
