/**
 * Entry point of the Workers Free plan build (`npm run edge:deploy:free`): the same worker as index.ts with
 * the session reranker's forward pass in plain TypeScript, so onnxruntime-web's 3.7 MB (gzip) WASM is not
 * bundled and the worker fits the Free plan's 3 MiB limit. See docs/edge.md "Bundle options".
 */
import { typescriptRuntime } from './rerank/typescript.ts';
import { createWorker } from './worker.ts';

export default createWorker(typescriptRuntime);
