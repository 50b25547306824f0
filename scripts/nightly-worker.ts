/**
 * `npm run nightly:worker -- [flags]`: a distributed nightly worker (batch/nightly/distributed/worker.ts). Start
 * any number, on any machines that reach the Redis and the KV; each takes shard jobs until stopped (SIGTERM /
 * SIGINT finish the current shard first).
 *   --redis-url URL   the queue's Redis (default env REDIS_URL); --queue-prefix P (default bull)
 *   --kv cloudflare   the shared KV (CF_ACCOUNT_ID, CF_KV_NAMESPACE_ID, CF_API_TOKEN); --namespace-id ID
 *   --threads T       worker threads computing slates (default: one per core)
 *   --database-url URL  origin's Postgres (users, erasures), --artifacts DIR, --lock-ms MS, --throttle-ms MS
 * Prints a progress bar per shard on stderr (JSON log lines with --no-progress).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Redis } from 'ioredis';
import { startShardWorker } from '../batch/nightly/distributed/worker.ts';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    kv: { type: 'string' },
    'namespace-id': { type: 'string' },
    'redis-url': { type: 'string' },
    'queue-prefix': { type: 'string' },
    'database-url': { type: 'string' },
    artifacts: { type: 'string', default: join(root, 'models', 'artifacts') },
    threads: { type: 'string' },
    'lock-ms': { type: 'string', default: '30000' },
    'throttle-ms': { type: 'string', default: '0' },
    'no-progress': { type: 'boolean', default: false },
  },
});
const count = (name: string, text: string | undefined, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`);
  return n;
};

const redisUrl = values['redis-url'] ?? process.env.REDIS_URL;
if (!redisUrl) throw new Error('nightly:worker needs the queue\'s Redis: set REDIS_URL or --redis-url');
const kvSettings = kvSettingsFrom({ kv: values.kv, namespaceId: values['namespace-id'] }, process.env, root);
if (kvSettings.kind === 'local') throw new Error('nightly:worker writes a KV shared by every worker: use --kv cloudflare');
const kv = await openKv(kvSettings);
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const bar = new cliProgress.SingleBar({ format: 'shard {job} [{bar}] {value}/{total} slates', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
let barJob = '';
const quiet = values['no-progress'];
const worker = startShardWorker({
  connection,
  prefix: values['queue-prefix'] ?? process.env.NIGHTLY_QUEUE_PREFIX,
  kv,
  artifactsRoot: values.artifacts,
  source: { databaseUrl: values['database-url'] ?? process.env.DATABASE_URL, redisUrl, redisKeyPrefix: process.env.REDIS_KEY_PREFIX },
  threads: values.threads === undefined ? availableParallelism() : count('threads', values.threads, 1),
  lockMs: count('lock-ms', values['lock-ms'], 1000),
  throttleMs: count('throttle-ms', values['throttle-ms'], 0),
  log: (line) => {
    if (quiet) process.stderr.write(`${JSON.stringify({ component: 'nightly-worker', ...line })}\n`);
  },
  onProgress: ({ job, usersDone, usersTotal }) => {
    if (quiet) return;
    if (job !== barJob) {
      if (barJob) bar.stop();
      barJob = job;
      bar.start(usersTotal, usersDone, { job });
    } else bar.update(usersDone);
    if (usersDone >= usersTotal) {
      bar.stop();
      barJob = '';
    }
  },
});
process.stderr.write(`[nightly-worker] pid ${process.pid} waiting for shard jobs\n`);
const stop = async (): Promise<void> => {
  await worker.close();
  await kv.close();
  connection.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
