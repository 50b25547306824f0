/**
 * `npm run bench:scan`: the origin's exact int8 scan (adapters/ann/int8-scan-index.ts) per query by batch size,
 * for each loop this CPU runs (INT8_SCAN_KERNEL, one child process each), alone and with a second process scanning
 * its own copy at the same time, as two ORIGIN_WORKERS do. A batch reads the codes once for all its queries, so
 * the per-query cost by batch size says what micro-batching buys, and the two-process figure what the memory bus
 * takes back. Random vectors (--items × --dim), top --k plus the index's re-scoring, each batch size for
 * --seconds. JSON lines, with each size's ratio to a batch of 1 and the two-process ratio to the lone one.
 * Flags: --items N (default 1000000) --dim D (64) --k K (100) --seconds S (3) --batches 1,2,4,8,16.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createInt8ScanIndex, int8ScanKernel } from '../../adapters/ann/int8-scan-index.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '64' },
    k: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '3' },
    batches: { type: 'string', default: '1,2,4,8,16' },
    child: { type: 'boolean', default: false },
  },
});
const items = Number(values.items);
const dim = Number(values.dim);
const k = Number(values.k);
const seconds = Number(values.seconds);
const batches = values.batches.split(',').map(Number);

/** In a child: ms per query for each batch size, as one JSON line on stdout. */
function measure(): void {
  const vectors = Float32Array.from({ length: items * dim }, () => Math.random() - 0.5);
  const index = createInt8ScanIndex(vectors, dim);
  const queries = Float32Array.from({ length: Math.max(...batches) * dim }, () => Math.random() - 0.5);
  const msPerQuery: Record<string, number> = {};
  for (const batch of batches) {
    index.searchBatch(queries.subarray(0, batch * dim), k); // warm-up
    const started = performance.now();
    let done = 0;
    while (performance.now() - started < seconds * 1000) {
      index.searchBatch(queries.subarray(0, batch * dim), k);
      done += batch;
    }
    msPerQuery[batch] = +((performance.now() - started) / done).toFixed(3);
  }
  console.log(JSON.stringify({ kernel: int8ScanKernel(), msPerQuery }));
}

function child(kernel: string): Promise<{ kernel: string; msPerQuery: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const args = [import.meta.filename, '--child', '--items', String(items), '--dim', String(dim), '--k', String(k), '--seconds', String(seconds), '--batches', values.batches];
    const proc = spawn(process.execPath, args, { env: { ...process.env, INT8_SCAN_KERNEL: kernel }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { kernel: string; msPerQuery: Record<string, number> }) : reject(new Error(`scan child (${kernel}) exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const command = `npm run bench:scan -- --items ${items} --dim ${dim} --k ${k} --seconds ${seconds} --batches ${values.batches}`;
  for (const kernel of ['avx512-vnni', 'avx2', 'generic']) {
    const alone = await child(kernel);
    if (alone.kernel !== kernel) continue; // this CPU lacks the loop: the loader fell back
    const [a, b] = await Promise.all([child(kernel), child(kernel)]);
    for (const batch of batches) {
      const one = alone.msPerQuery[batch]!;
      const two = (a.msPerQuery[batch]! + b.msPerQuery[batch]!) / 2;
      console.log(JSON.stringify({ bench: 'scan-batch', command, items, dim, k, kernel, batch, ms_per_query: one, vs_batch_1: +(one / alone.msPerQuery[batches[0]!]!).toFixed(2), two_processes_ms_per_query: +two.toFixed(3), two_processes_vs_alone: +(two / one).toFixed(2) }));
    }
  }
}

if (values.child) measure();
else main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
