/**
 * `npm run nightly -- [flags]`: precomputes every slate of a new version into KV, flips the pointer, cleans up.
 *   --kv local|cloudflare   adapter (default local; cloudflare reads CF_ACCOUNT_ID, CF_KV_NAMESPACE_ID, CF_API_TOKEN)
 *   --persist-to DIR        local KV persistence (same as `wrangler dev --persist-to`, default .wrangler/state)
 *   --namespace-id ID       KV namespace (default: SLATES binding id from edge/wrangler.jsonc)
 *   --threads T             worker threads computing slates (default: one per core; 1 = on the main thread)
 *   --ann auto|gemm|usearch retrieval: gemm = exact top-k, one matrix product per batch of users; usearch = the
 *                           origin's HNSW graph, cached under <artifacts>/.ann-cache; auto (default) = gemm up
 *                           to 2M items, usearch beyond
 *   --resume                continue the newest unfinished version (finished shards are not recomputed)
 *   --shards S --batch B --slate-size N --max-users U --grace-hours H --state-dir DIR --artifacts DIR
 *   --version V --at MS     force the version id/time (reproducible runs)
 *   --users auto|store|generator  where users and items come from (batch/nightly/sources.ts; default auto:
 *                           the origin's Postgres when it has active users, else the demo generator)
 *   --pglite-dir DIR        the origin's embedded PGlite folder instead (no origin may hold it meanwhile)
 *   --database-url URL      origin's Postgres (default env DATABASE_URL): its users/events/items, and its
 *                           erasures, checked before and after every batch of slate writes
 *   --redis-url URL         origin's feature store (default env REDIS_URL, prefix REDIS_KEY_PREFIX): histories
 *   --distributed           coordinator of a distributed run (docs/nightly.md): enqueues the shards as BullMQ
 *                           jobs on REDIS_URL (--redis-url) for `npm run nightly:worker` processes, waits, flips;
 *                           needs a KV every machine writes (--kv cloudflare); --queue-prefix P (default bull)
 * Prints a progress bar on stderr and one JSON summary line on stdout.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { edgeModelFiles, loadModelArtifacts } from '../batch/nightly/inputs.ts';
import { openNightlySources, type UsersFrom } from '../batch/nightly/sources.ts';
import { runNightly } from '../batch/nightly/job.ts';
import { newSlateVersion } from '../shared/kv/keys.ts';
import { runCoordinator, takeCoordinatorLock } from '../batch/nightly/distributed/coordinator.ts';
import { Redis } from 'ioredis';
import { workerPoolComputer } from '../batch/nightly/worker-pool.ts';
import { availableParallelism } from 'node:os';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';
import { fixedVersionServing, nightlyAnnKind, openServedPipeline } from '../adapters/serving.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    kv: { type: 'string' },
    'persist-to': { type: 'string' },
    'namespace-id': { type: 'string' },
    resume: { type: 'boolean', default: false },
    shards: { type: 'string', default: '16' },
    batch: { type: 'string', default: '256' },
    'slate-size': { type: 'string', default: '100' },
    'max-users': { type: 'string' },
    'grace-hours': { type: 'string', default: '48' },
    'state-dir': { type: 'string', default: join(root, 'var', 'nightly') },
    artifacts: { type: 'string', default: join(root, 'models', 'artifacts') },
    version: { type: 'string' },
    at: { type: 'string' },
    'no-progress': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    'pglite-dir': { type: 'string' },
    'redis-url': { type: 'string' },
    users: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    ann: { type: 'string', default: 'auto' },
    distributed: { type: 'boolean', default: false },
    'queue-prefix': { type: 'string' },
  },
});

const positiveInt = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
};

if (!['auto', 'gemm', 'usearch'].includes(values.ann)) throw new Error(`--ann must be auto, gemm or usearch, got ${values.ann}`);

// A distributed coordinator takes its lock first, before loading anything: a second one stops at once.
const queueRedisUrl = values['redis-url'] ?? process.env.REDIS_URL;
const queuePrefix = values['queue-prefix'] ?? process.env.NIGHTLY_QUEUE_PREFIX;
let coordinatorLock: { redis: Redis; release: () => Promise<void> } | undefined;
if (values.distributed) {
  if (!queueRedisUrl) throw new Error('--distributed needs Redis for its job queue: set REDIS_URL or --redis-url');
  const redis = new Redis(queueRedisUrl, { maxRetriesPerRequest: null });
  try {
    coordinatorLock = { redis, release: await takeCoordinatorLock(redis, queuePrefix, `version ${values.version ?? 'new'}, pid ${process.pid}`) };
  } catch (error) {
    process.stderr.write(`[nightly] ${error instanceof Error ? error.message : String(error)}\n`);
    redis.disconnect();
    process.exit(1);
  }
}
const artifacts = await loadModelArtifacts(values.artifacts);
if (!['auto', 'store', 'generator'].includes(values.users)) throw new Error(`--users must be auto, store or generator, got ${values.users}`);
const sources = await openNightlySources({
  usersFrom: values.users as UsersFrom,
  databaseUrl: values['database-url'] ?? process.env.DATABASE_URL,
  pgliteDir: values['pglite-dir'],
  redisUrl: values['redis-url'] ?? process.env.REDIS_URL,
  redisKeyPrefix: process.env.REDIS_KEY_PREFIX,
  maxUsers: values['max-users'] === undefined ? undefined : positiveInt('max-users', values['max-users']),
});
const candidates = await sources.source.activeUsers();
const erased = await sources.source.erasedAmong(candidates.map((u) => u.id));
const users = candidates.filter((user) => !erased.has(user.id));
const segments = sources.segments ?? [...new Set(users.map((u) => u.segment).filter((s) => s !== ''))].sort();
process.stderr.write(`[nightly] ${users.length} users from the ${sources.source.kind}${erased.size > 0 ? ` (${erased.size} erased get no slate)` : ''}, ${sources.items.length} items\n`);
const kvSettings = kvSettingsFrom({ kv: values.kv, persistTo: values['persist-to'], namespaceId: values['namespace-id'] }, process.env, root);
if (coordinatorLock) {
  const { redis, release } = coordinatorLock;
  if (kvSettings.kind === 'local') {
    await release();
    throw new Error('--distributed needs a KV that every worker machine writes: use --kv cloudflare (local KV persistence is one process\'s)');
  }
  const kv = await openKv(kvSettings);
  const at = values.at === undefined ? Date.now() : Number(values.at);
  // One bar for the whole version: shard jobs done and the users written across every worker (each worker shows its own).
  const jobsBar = new cliProgress.SingleBar({ format: 'nightly [{bar}] {percentage}% | {done}/{total} shard jobs | eta {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  try {
    const summary = await runCoordinator({
      connection: redis,
      prefix: queuePrefix,
      lock: release,
      kv,
      space: artifacts.space,
      sessionVectors: artifacts.sessionVectors,
      items: sources.items,
      segments,
      edgeModelFiles: await edgeModelFiles(artifacts),
      version: values.version ?? newSlateVersion(new Date(at)),
      modelVersion: artifacts.version,
      at,
      shards: positiveInt('shards', values.shards),
      batchSize: positiveInt('batch', values.batch),
      slateSize: positiveInt('slate-size', values['slate-size']),
      usersFrom: values.users as UsersFrom,
      maxUsers: values['max-users'] === undefined ? undefined : positiveInt('max-users', values['max-users']),
      graceMs: Number(values['grace-hours']) * 3_600_000,
      onProgress: ({ shardsDone, shardsTotal, percent }) => {
        if (values['no-progress']) return;
        if (!jobsBar.isActive) jobsBar.start(100, 0, { done: 0, total: shardsTotal });
        jobsBar.update(Math.floor(percent), { done: shardsDone, total: shardsTotal });
      },
    });
    jobsBar.stop();
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } catch (error) {
    jobsBar.stop();
    process.stderr.write(`[nightly] failed, the previous slate version stays live: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await kv.close();
    await sources.source.close();
    redis.disconnect();
  }
  process.exit();
}
const annKind = values.ann === 'auto' ? nightlyAnnKind(sources.items.length) : (values.ann as 'gemm' | 'usearch');
const threads = values.threads === undefined ? availableParallelism() : positiveInt('threads', values.threads);
// One thread: the pipeline on the main thread. More: a worker pool, each worker with its own pipeline.
const pipeline = threads === 1 ? (await openServedPipeline(fixedVersionServing(artifacts.dir, sources.items, annKind))).pipeline : undefined;
const computer = threads === 1 ? undefined : (version: Parameters<typeof workerPoolComputer>[0]['version']) =>
  workerPoolComputer({ threads, versionDir: artifacts.dir, items: sources.items, version, slateSize: positiveInt('slate-size', values['slate-size']), annCacheDir: join(values.artifacts, '.ann-cache'), annKind });
const kv = await openKv(kvSettings);

const bar = new cliProgress.SingleBar(
  { format: 'nightly [{bar}] {percentage}% | {value}/{total} users | {speed} users/s | eta {eta_formatted}', hideCursor: true, stream: process.stderr, noTTYOutput: false },
  cliProgress.Presets.shades_classic,
);
const showProgress = !values['no-progress'];
// Users/second on the bar counts from the first user batch (item cards and segments come before).
let barStarted = 0;
let barFrom = 0;
let barOn = false;
try {
  const summary = await runNightly({
    kv,
    pipeline,
    computer,
    modelVersion: artifacts.version,
    space: artifacts.space,
    sessionVectors: artifacts.sessionVectors,
    items: sources.items,
    users,
    segments,
    erasedAmong: (ids) => sources.source.erasedAmong(ids),
    edgeModelFiles: await edgeModelFiles(artifacts),
    stateDir: values['state-dir'],
    shards: positiveInt('shards', values.shards),
    batchSize: positiveInt('batch', values.batch),
    slateSize: positiveInt('slate-size', values['slate-size']),
    resume: values.resume,
    version: values.version,
    at: values.at === undefined ? undefined : Number(values.at),
    graceMs: Number(values['grace-hours']) * 3_600_000,
    onProgress: ({ usersDone, usersTotal }) => {
      if (!showProgress) return;
      if (!barOn) {
        barStarted = performance.now();
        barFrom = usersDone;
        bar.start(usersTotal, usersDone, { speed: 0 });
        barOn = true;
      } else bar.update(usersDone, { speed: Math.round((usersDone - barFrom) / Math.max(0.001, (performance.now() - barStarted) / 1000)) });
    },
  });
  if (barOn) bar.stop();
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} catch (error) {
  if (barOn) bar.stop();
  process.stderr.write(`[nightly] failed, the previous slate version stays live: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await kv.close();
  await sources.source.close();
}
// ONNX sessions and the model registry hold native handles; the job is done, so exit explicitly.
process.exit();
