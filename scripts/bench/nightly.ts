/**
 * `npm run bench:nightly [-- --users N --big-items 1000000 --big-users N --card-sample N --threads T --skip-big --skip-demo]`
 * Users/hour of the nightly job on this machine, printed as JSON lines, for two catalogues:
 *  1. demo catalogue (10k items, trained model);
 *  2. synthetic 1M-item catalogue (random-weight models of the real architectures, scripts/bench/
 *     synthetic-artifacts.ts); item cards are written for a sample (a per-version cost, reported apart).
 * Each case runs the same users five times in the same process, into fresh KVs with the same version id and
 * time. The first three write into the local KV: the path the earlier figures measured (pipeline on the main
 * thread, one batch at a time, HNSW retrieval: `--ann usearch --threads 1`), the new path's single-thread
 * reference (the same with exact GEMM retrieval) and the new path (GEMM retrieval, one worker thread per core,
 * KV writes overlapping compute). The new path's slates must equal its reference's key for key; against the HNSW
 * path they differ where the graph missed a true top-k candidate, which the line reports as the share of identical
 * slates and of shared items.
 * Two more runs repeat the new path with other KVs: an in-process one (adapters/memory/kv.ts: the job's own cost)
 * and the production adapter (Cloudflare's SDK, bulk writes over HTTP) into a stand-in of the REST API in another
 * process, the closest to a production run here. The local KV's workerd is a simulator that stores every value in
 * SQLite and blob files on the same two cores; each KV's other side's CPU is reported (kvServerCpuMsPerUser).
 * users/hour = users / wall time of the user phase (from the first user batch to the last write); stage times are
 * summed over threads, per user.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Item } from '../../shared/catalog/types.ts';
import { slateKey } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { SlateSchema } from '../../shared/contracts/slate.ts';
import { activeUsersOf, demoInputs, loadModelArtifacts, type NightlyUser } from '../../batch/nightly/inputs.ts';
import { runNightly, type NightlySummary } from '../../batch/nightly/job.ts';
import { workerPoolComputer } from '../../batch/nightly/worker-pool.ts';
import { openCloudflareKv } from '../../adapters/kv/cloudflare.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { openMemoryKv } from '../../adapters/memory/kv.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { readManifest } from '../../core/registry/artifacts.ts';
import type { AnnKind } from '../../core/ports/ann.ts';
import { cpuNs, descendantsNamed } from './process-cpu.ts';
import { syntheticArtifacts } from './synthetic-artifacts.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    'big-items': { type: 'string', default: '1000000' },
    'big-users': { type: 'string', default: '5000' },
    'card-sample': { type: 'string', default: '20000' },
    batch: { type: 'string', default: '256' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'skip-big': { type: 'boolean', default: false },
    'skip-demo': { type: 'boolean', default: false },
  },
});

interface Case {
  name: string;
  versionDir: string;
  space: FeatureSpace;
  sessionVectors: Int8Array | undefined;
  cardSample: number;
  users: readonly NightlyUser[];
  segments: readonly string[];
  items: readonly Item[];
}

const VERSION = 'v20260101T000000Z';
const AT = Date.UTC(2026, 0, 1);
const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

interface PathResult {
  summary: NightlySummary;
  userPhaseSeconds: number;
  /** CPU time of this process (all its threads) during the user phase; the local KV's workerd is another process. */
  cpuSeconds: number;
  /**
   * CPU time of the KV's other side during the user phase, on the same cores: the local simulator's workerd, or the
   * API stand-in's process (0 for the in-process KV). Production pays neither: its writes leave the machine.
   */
  kvCpuSeconds: number;
  slates: (string | null)[];
  setupSeconds: number;
}

type KvKind = 'local' | 'memory' | 'cloudflare';

/**
 * Cloudflare's KV REST API, stood in for by the tests' local implementation of it (test/nightly/fake-cloudflare-kv.ts)
 * in a child process: the job writes through the production adapter (the SDK's bulk writes over HTTP), and what the
 * API's side costs (parsing, storing) stays out of this process, as it would on Cloudflare. It shares the cores.
 */
async function startKvApiStandIn(credentials: { account: string; namespace: string; token: string }): Promise<{ baseUrl: string; pid: number; close: () => void }> {
  const helper = pathToFileURL(join(root, 'test', 'nightly', 'fake-cloudflare-kv.ts')).href;
  const code = `const { startFakeCloudflareKv } = await import(${JSON.stringify(helper)}); console.log((await startFakeCloudflareKv(${JSON.stringify(credentials)})).baseUrl);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [baseUrl] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => { throw new Error('the KV API stand-in exited before it listened'); })])) as [string];
  return { baseUrl, pid: child.pid ?? 0, close: () => child.kill() };
}

/** The KV a path writes into, and the processes of its other side on these cores (none for the in-process KV). */
async function openBenchKv(kind: KvKind, dir: string): Promise<{ kv: KvWriter; serverPids: () => number[] }> {
  if (kind === 'local') return { kv: await openLocalKv({ persistTo: dir, namespaceId: 'bench' }), serverPids: () => descendantsNamed(process.pid, 'workerd') };
  if (kind === 'memory') return { kv: openMemoryKv(), serverPids: () => [] };
  const credentials = { account: 'bench', namespace: 'bench', token: 'bench' };
  const api = await startKvApiStandIn(credentials);
  const kv = openCloudflareKv({ accountId: credentials.account, namespaceId: credentials.namespace, apiToken: credentials.token, baseUrl: api.baseUrl });
  return { kv: { ...kv, close: async () => { await kv.close(); api.close(); } }, serverPids: () => [api.pid] };
}

async function runPath(c: Case, threads: number, annKind: AnnKind, kvKind: KvKind = 'local'): Promise<PathResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nightly-'));
  const setupStarted = performance.now();
  const served = threads === 1 ? await openServedPipeline(fixedVersionServing(c.versionDir, c.items, annKind)) : undefined;
  const { kv, serverPids } = await openBenchKv(kvKind, dir);
  let userPhaseStarted = 0;
  let userPhaseEnded = 0;
  let cpuStarted = process.cpuUsage();
  let cpuUsed = { user: 0, system: 0 };
  let kvCpuStarted = 0;
  let kvCpuNs = 0;
  try {
    const summary = await runNightly({
      kv,
      pipeline: served?.pipeline,
      modelVersion: (await readManifest(c.versionDir)).version,
      computer: threads === 1 ? undefined : (version) => workerPoolComputer({ threads, versionDir: c.versionDir, items: c.items, version, slateSize: 100, annKind }),
      space: c.space,
      sessionVectors: c.sessionVectors,
      items: c.items,
      itemCardLimit: c.cardSample,
      users: c.users,
      segments: c.segments,
      stateDir: join(dir, 'var'),
      batchSize: Number(values.batch),
      version: VERSION,
      at: AT,
      onProgress: ({ usersDone, usersTotal }) => {
        if (usersDone === 0) {
          userPhaseStarted = performance.now();
          cpuStarted = process.cpuUsage();
          kvCpuStarted = cpuNs(serverPids());
        }
        if (usersDone === usersTotal) {
          userPhaseEnded = performance.now();
          cpuUsed = process.cpuUsage(cpuStarted);
          kvCpuNs = cpuNs(serverPids()) - kvCpuStarted;
        }
      },
    });
    const slates = await kv.getMany(c.users.map((u) => slateKey(VERSION, { kind: 'user', id: u.id })));
    return { summary, userPhaseSeconds: (userPhaseEnded - userPhaseStarted) / 1000, cpuSeconds: (cpuUsed.user + cpuUsed.system) / 1e6, kvCpuSeconds: kvCpuNs / 1e9, slates, setupSeconds: (userPhaseStarted - setupStarted) / 1000 };
  } finally {
    await kv.close();
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(path: string, threads: number, c: Case, r: PathResult): Record<string, unknown> {
  const users = r.summary.users;
  const perUser = Object.fromEntries(Object.entries(r.summary.stagesMs).filter(([stage]) => stage !== 'cleanup').map(([stage, ms]) => [stage, round(ms / users)]));
  return {
    path,
    threads,
    users,
    userPhaseSeconds: round(r.userPhaseSeconds),
    msPerUserWall: round((r.userPhaseSeconds * 1000) / users),
    usersPerHour: Math.round((users * 3600) / r.userPhaseSeconds),
    // Less sensitive to other load than wall time: what the job costs per user in CPU (summed over threads).
    cpuMsPerUser: round((r.cpuSeconds * 1000) / users),
    // The KV's other side on the same cores (local workerd or API stand-in; absent for the in-process KV).
    ...(r.kvCpuSeconds > 0 ? { kvServerCpuMsPerUser: round((r.kvCpuSeconds * 1000) / users) } : {}),
    setupSeconds: round(r.setupSeconds, 1),
    itemCardsWritten: Math.min(c.cardSample, c.items.length),
    perUserMsByStage: perUser,
  };
}

/** Item ids of a stored slate value (none when absent). */
function slateItems(value: string | null): string[] {
  if (value === null) return [];
  return SlateSchema.parse(JSON.parse(value)).i;
}

/** How far two runs' slates agree: identical values, and the mean share of the first run's items the second has. */
function agreement(users: readonly NightlyUser[], a: PathResult, b: PathResult): Record<string, unknown> {
  const differing = users.filter((_, i) => a.slates[i] !== b.slates[i]).map((u) => u.id);
  const missing = users.filter((_, i) => a.slates[i] === null || b.slates[i] === null).length;
  let shared = 0;
  users.forEach((_, i) => {
    const left = slateItems(a.slates[i] ?? null);
    const right = new Set(slateItems(b.slates[i] ?? null));
    shared += left.length === 0 ? 0 : left.filter((id) => right.has(id)).length / left.length;
  });
  return { compared: users.length, identical: users.length - differing.length, differing: differing.length, missing, sharedItemShare: round(shared / Math.max(1, users.length)), firstDiffering: differing.slice(0, 5) };
}

async function measure(c: Case): Promise<Record<string, unknown>> {
  const threads = Number(values.threads);
  const single = await runPath(c, 1, 'usearch');
  const reference = await runPath(c, 1, 'gemm');
  const parallel = await runPath(c, threads, 'gemm');
  const ownCost = await runPath(c, threads, 'gemm', 'memory');
  const restKv = await runPath(c, threads, 'gemm', 'cloudflare');
  return {
    bench: 'nightly',
    case: c.name,
    catalogueItems: c.items.length,
    single: report('single-thread, HNSW (usearch) retrieval: the path of the earlier figures', 1, c, single),
    singleExact: report('single-thread, exact GEMM retrieval: the new path on one thread', 1, c, reference),
    parallel: report(`worker threads (${threads}), exact GEMM retrieval, KV writes overlapping compute: the new path`, threads, c, parallel),
    // The same new path with KV writes kept in this process: the job's own cost. In production the writes leave
    // the machine as bulk HTTP requests; the local KV's workerd process otherwise takes a core of the two.
    parallelMemoryKv: report(`worker threads (${threads}), exact GEMM retrieval, in-process KV (adapters/memory/kv.ts): the job's own cost`, threads, c, ownCost),
    // The same new path writing through the production KV adapter (Cloudflare's SDK, bulk writes over HTTP) into a
    // stand-in of the API in another process: the closest this machine gets to a production run.
    parallelCloudflareKv: report(`worker threads (${threads}), exact GEMM retrieval, Cloudflare KV adapter into a local stand-in of the REST API (another process)`, threads, c, restKv),
    speedup: round(single.userPhaseSeconds / parallel.userPhaseSeconds, 2),
    speedupOverSingleExact: round(reference.userPhaseSeconds / parallel.userPhaseSeconds, 2),
    // Must be all identical: the same exact retrieval on one thread and on the worker pool.
    slates: agreement(c.users, reference, parallel),
    slatesMemoryKv: agreement(c.users, reference, ownCost),
    slatesCloudflareKv: agreement(c.users, reference, restKv),
    // Where HNSW missed a true top-k candidate the slates differ; sharedItemShare says by how much.
    slatesVsHnsw: agreement(c.users, single, parallel),
    // Digest of every user slate of the new path: equal digests across commits = unchanged slates.
    slatesSha256: createHash('sha256').update(parallel.slates.join('\n')).digest('hex'),
    bytesPerSlate: parallel.summary.bytesPerSlate,
    kv: 'local (Miniflare/workerd SQLite)',
    cores: availableParallelism(),
  };
}

if (!values['skip-demo']) {
  const demo = demoInputs({}, Number(values.users));
  const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
  console.log(JSON.stringify(await measure({ name: 'demo-10k-items', versionDir: artifacts.dir, space: artifacts.space, sessionVectors: artifacts.sessionVectors, cardSample: demo.items.length, users: demo.users, segments: demo.dataset.segments, items: demo.items })));
}

if (!values['skip-big']) {
  const bigItems = Number(values['big-items']);
  const synthetic = await syntheticArtifacts(root, bigItems, Number(values['big-users']));
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(synthetic.dir, 'feature_space.json'), 'utf8'))));
  console.log(
    JSON.stringify({
      ...(await measure({
        name: `synthetic-${bigItems}-items`,
        versionDir: synthetic.dir,
        space,
        sessionVectors: undefined, // the synthetic models ship no session projection
        cardSample: Number(values['card-sample']),
        users: activeUsersOf(synthetic.dataset),
        segments: synthetic.dataset.segments,
        items: synthetic.dataset.items,
      })),
      note: 'random-weight models of the real architectures; the HNSW graph of the first path is built once and cached (var/bench/…/.ann-cache)',
    }),
  );
}
process.exit();
