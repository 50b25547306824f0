/**
 * Entry point of the default build: the session reranker runs on onnxruntime-web (WASM). The Workers Free
 * plan build (index.free.ts) is the same worker with the plain-TypeScript forward pass. See worker.ts.
 */
import { ortRuntime } from './rerank/ort.ts';
import { createWorker } from './worker.ts';

export default createWorker(ortRuntime);
