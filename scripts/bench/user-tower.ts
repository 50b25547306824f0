/**
 * `node scripts/bench/user-tower.ts <version folder | user_tower.onnx> [--runs N]`: batch-1 latency of a user tower
 * (mean-pooling or self-attention, whichever the version ships) in onnxruntime-node with one intra-op thread, as
 * the origin runs it; random right-aligned histories. Prints p50 / p99 / max in ms (issue 11: p99 ≤ 1 ms).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { HISTORY_LENGTH } from '../../shared/features/spec.ts';
import { createRng } from '../../shared/util/rng.ts';
import { percentile } from './percentile.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '3000' }, items: { type: 'string', default: '1000' } } });
const target = positionals[0];
if (!target) throw new Error('usage: node scripts/bench/user-tower.ts <version folder | user_tower.onnx> [--runs N] [--items N]');
const file = statSync(target).isDirectory() ? join(target, 'user_tower.onnx') : target;
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const rng = createRng(1);
const items = Number(values.items);
const runs = Number(values.runs);
const times: number[] = [];
for (let r = 0; r < runs + 200; r++) {
  const length = rng.int(HISTORY_LENGTH + 1);
  const history = new BigInt64Array(HISTORY_LENGTH);
  for (let i = HISTORY_LENGTH - length; i < HISTORY_LENGTH; i++) history[i] = BigInt(1 + rng.int(items));
  const start = process.hrtime.bigint();
  await session.run({ segment: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]), history: new ort.Tensor('int64', history, [1, HISTORY_LENGTH]) });
  if (r >= 200) times.push(Number(process.hrtime.bigint() - start) / 1e6); // the first 200 warm up
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ file, runs, p50Ms: +percentile(times, 50).toFixed(3), p99Ms: +percentile(times, 99).toFixed(3), maxMs: +times.at(-1)!.toFixed(3) }));
await session.release();
