/**
 * `npm run bench:edge`: the edge worker's own cost inside workerd, answering from KV.
 *   - bundle sizes of both builds (`wrangler deploy --dry-run`): default (onnxruntime-web WASM) and the Workers
 *     Free plan build (plain-TypeScript reranker, edge/src/index.free.ts), against Cloudflare's limits;
 *   - CPU time per request: the bundle the dry run produced runs in one workerd process started by Miniflare
 *     (no `wrangler dev` proxy in front); one request at a time, variants interleaved round by round (same
 *     machine conditions for each), the CPU the workerd process got for each
 *     request is read from /proc (schedstat of every thread, nanoseconds: other load on the machine does not
 *     inflate it). Reported for /healthz (the floor: workerd's HTTP handling and routing), a KV hit without
 *     rerank, and with the session rerank at 50 and 100 candidates, for both runtimes; p50/p99, and the p50
 *     above /healthz. It includes the local KV simulation serving the request's one read: an upper bound of
 *     what Cloudflare bills (the isolate's own CPU);
 *   - the cold start: the extra CPU of the request that creates the reranker session of a model version
 *     (COLD fresh model versions), and the in-isolate creation time (ms resolution);
 *   - a probe worker that only reads one slate from the same KV gives the local KV read's own CPU, which is
 *     subtracted with the /healthz floor for an estimate of the worker's own CPU;
 *   - the in-isolate figure (Server-Timing `compute`: wall − I/O waits, CPU_TIMING=on) as a cross-check; workerd
 *     timers tick in whole milliseconds, so only its mean is meaningful;
 *   - KV reads per request (X-KV-Reads) and the monthly KV read cost at 1,000 widget requests/s, before (the
 *     previous read pattern, counted from its code) and after (measured);
 *   - client latency per build (dispatchFetch round trip), throughput with autocannon is not run: Miniflare's
 *     loopback is not a production front end.
 * Flags: --requests N (300)  --cold N (10)  --size-only (`npm run edge:size`). Prints JSON lines.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { signUserToken } from '../../shared/auth/user-token.ts';
import { encodeSlate, type ItemCard } from '../../shared/contracts/slate.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { itemCardKey, modelFileKey, SLATE_POINTER_KEY, slateKey } from '../../shared/kv/keys.ts';
import { createRng } from '../../shared/util/rng.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { readPointer } from '../../core/registry/artifacts.ts';
import { percentile } from './percentile.ts';
import { cpuNs, descendantsNamed } from './process-cpu.ts';

const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, cold: { type: 'string', default: '10' }, 'size-only': { type: 'boolean', default: false } } });
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'edge', ...line }));
const MiB = 1024 * 1024;
const SECRET = 'bench-user-token-secret-0123456789abcdef';
const COMMAND = 'npm run bench:edge';
const BUILDS = { default: 'edge/src/index.ts', free: 'edge/src/index.free.ts' } as const;
type Build = keyof typeof BUILDS;
const RUNTIME: Record<Build, string> = { default: 'onnxruntime-web', free: 'typescript' };
/** Workers KV on Workers Paid, developers.cloudflare.com/kv/platform/pricing/ (as published 2025–2026). */
const KV_PRICE = { includedReadsPerMonth: 10_000_000, usdPerMillionReads: 0.5, source: 'developers.cloudflare.com/kv/platform/pricing: Workers Paid, 10M reads/month included, then $0.50 per million reads' };

function build(): void {
  const result = spawnSync(node, [join(root, 'edge', 'scripts', 'build.ts')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  const widget = readFileSync(join(root, 'edge', 'src', 'generated', 'widget.ts'), 'utf8');
  const code = JSON.parse(widget.slice(widget.indexOf('=') + 1).trim().replace(/;$/, '')) as string;
  emit({ metric: 'widget_js_bytes', value: code.length, unit: 'bytes' });
  emit({ metric: 'widget_js_gzip_bytes', value: gzipSync(code).length, unit: 'bytes' });
}

/** `wrangler deploy --dry-run` of one build: reports its size, returns the bundle directory (caller removes it). */
function bundle(variant: Build): { dir: string; main: string } {
  const dir = mkdtempSync(join(tmpdir(), 'edge-bundle-'));
  const result = spawnSync(node, [wrangler, 'deploy', join(root, BUILDS[variant]), '--dry-run', '--outdir', dir, '--config', join(root, 'edge', 'wrangler.jsonc')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  if (result.status !== 0) throw new Error(result.stderr || result.stdout);
  let raw = 0;
  let gzip = 0;
  let main = '';
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (!statSync(path).isFile() || file.endsWith('.map') || file === 'README.md') continue;
    if (file.endsWith('.js')) main = path;
    const bytes = readFileSync(path);
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  emit({ metric: 'worker_bundle_bytes', variant, entry: BUILDS[variant], value: raw, unit: 'bytes' });
  emit({ metric: 'worker_bundle_gzip_bytes', variant, entry: BUILDS[variant], value: gzip, unit: 'bytes', limit_free_gzip: 3 * MiB, limit_paid_gzip: 10 * MiB, fits_free: gzip <= 3 * MiB, fits_paid: gzip <= 10 * MiB });
  return { dir, main };
}

/** 200 users × 100-item slates carrying their cards, plus `cold` users whose slates name fresh model versions. */
async function writeFixture(persistTo: string, users: number, cold: number): Promise<string[]> {
  const version = await readPointer(join(root, 'models', 'artifacts'));
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(root, 'models', 'artifacts', version, 'feature_space.json'), 'utf8'))));
  const model = readFileSync(join(root, 'models', 'artifacts', version, 'session_reranker.onnx'));
  const rng = createRng(9);
  const kv = await openLocalKv({ persistTo, namespaceId: 'edge-reco-slates' });
  const entries: { key: string; value: string; base64?: boolean }[] = [];
  const used = new Set<number>();
  const cardOf = (index: number): ItemCard => {
    const id = space.itemId(index) ?? '';
    return { id, t: `Item ${id} with a title of usual length`, pr: 10 + (index % 90), img: `/img/${id}.svg`, cat: `category ${space.category(index)}`, f: [space.category(index), space.brand(index), space.priceBucket(index)], st: 3 };
  };
  const slateFor = (modelVersion: string): string => {
    const items = Array.from({ length: 100 }, () => 1 + rng.int(space.itemCount));
    items.forEach((i) => used.add(i));
    return JSON.stringify(encodeSlate({ slateVersion: 'vbench', modelVersion, at: Date.now() }, items.map((index, rank) => ({
      id: space.itemId(index) ?? '', score: 1 - rank / 100, category: space.category(index), brand: space.brand(index), priceBucket: space.priceBucket(index), reason: 'Picked for you',
    })), items.map(cardOf)));
  };
  for (let u = 0; u < users; u++) entries.push({ key: slateKey('vbench', { kind: 'user', id: `u${u}` }), value: slateFor(version) });
  for (let k = 0; k < cold; k++) {
    entries.push({ key: slateKey('vbench', { kind: 'user', id: `cold${k}` }), value: slateFor(`mcold${k}`) });
    entries.push({ key: modelFileKey(`mcold${k}`, 'session_reranker.onnx'), value: model.toString('base64'), base64: true });
  }
  // Recent items are drawn from the whole catalogue: most are outside the slate, their cards are per-item keys.
  const recent = Array.from({ length: 50 }, () => 1 + rng.int(space.itemCount));
  for (const index of new Set([...used, ...recent])) entries.push({ key: itemCardKey('vbench', space.itemId(index) ?? ''), value: JSON.stringify(cardOf(index)) });
  entries.push({ key: SLATE_POINTER_KEY, value: JSON.stringify({ version: 'vbench', modelVersion: version, createdAt: Date.now() }) });
  await kv.putMany(entries);
  await kv.close();
  return recent.map((i) => space.itemId(i) ?? '');
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

function summary(samples: readonly number[]): { p50: number; p99: number; mean: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round3(percentile(sorted, 50)), p99: round3(percentile(sorted, 99)), mean: round3(sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length)), n: sorted.length };
}

const timing = (header: string | null, name: string): number | null => {
  const match = header?.match(new RegExp(`${name};dur=([\\d.]+)`));
  return match?.[1] === undefined ? null : Number(match[1]);
};

/** The built worker in one workerd process (Miniflare), over the fixture's KV, with the CPU-timing header on. */
async function startWorker(main: string, persistTo: string, candidates: number): Promise<{ mf: Miniflare; pids: number[] }> {
  const dir = dirname(main);
  // The dry run's modules: the worker (first: the main module), precompiled WASM, the bundled model bytes.
  const others = readdirSync(dir).filter((f) => f.endsWith('.wasm') || f.endsWith('.onnx')).map((f) => ({ type: f.endsWith('.wasm') ? ('CompiledWasm' as const) : ('Data' as const), path: join(dir, f) }));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: [{ type: 'ESModule', path: main }, ...others],
      modulesRoot: dir,
      compatibilityDate: '2025-09-01',
      resourcePersistencePath: join(persistTo, 'v3'),
      // The worker logs one JSON line per request: kept off this benchmark's stdout (JSON result lines only).
      handleStructuredLogs: () => undefined,
      kvNamespaces: { SLATES: 'edge-reco-slates', DEAD_LETTERS: 'edge-reco-dead-letters' },
      bindings: {
        ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_TIMEOUT_MS: '150', SLATE_MAX_AGE_SECONDS: '129600', CACHE_FRESH_SECONDS: '60', ISOLATE_CACHE_SECONDS: '30',
        RERANK_CANDIDATES: String(candidates), DEAD_LETTER_QUEUE: 'edge-reco-events-dlq', ALLOWED_ORIGINS: '', CPU_TIMING: 'on', USER_TOKEN_SECRET: SECRET,
      },
    }),
  );
  await mf.ready;
  const pids = descendantsNamed(process.pid, 'workerd');
  if (pids.length !== 1) throw new Error(`expected one workerd process, found ${pids.length}`);
  return { mf, pids };
}

/**
 * A worker that only reads one user slate from the same KV (and one that only answers): their difference is
 * what the local KV simulation plus the value's JSON parse cost per read, to set apart from the edge's own CPU.
 */
const PROBE = `export default { async fetch(request, env) {
  const key = new URL(request.url).searchParams.get('key');
  if (!key) return new Response('ok');
  const value = await env.SLATES.get(key, { type: 'json', cacheTtl: 300 });
  return new Response(value ? 'found' : 'missing');
} };`;

async function kvReadCost(persistTo: string, requests: number): Promise<{ floor: number; read: number }> {
  const mf = new Miniflare(convertV4MiniflareOptions({ modules: true, script: PROBE, compatibilityDate: '2025-09-01', resourcePersistencePath: join(persistTo, 'v3'), kvNamespaces: { SLATES: 'edge-reco-slates' } }));
  await mf.ready;
  const pids = descendantsNamed(process.pid, 'workerd');
  const cpuOf = async (url: string): Promise<number> => {
    const before = cpuNs(pids);
    const text = await (await mf.dispatchFetch(url)).text();
    if (text === 'missing') throw new Error('probe: slate not found');
    return (cpuNs(pids) - before) / 1e6;
  };
  try {
    const floor: number[] = [];
    const read: number[] = [];
    for (let n = 0; n < requests + 50; n++) {
      const bare = await cpuOf('http://probe.local/');
      const one = await cpuOf(`http://probe.local/?key=${encodeURIComponent(slateKey('vbench', { kind: 'user', id: `u${n % 200}` }))}`);
      if (n >= 50) {
        floor.push(bare);
        read.push(one);
      }
    }
    return { floor: summary(floor).p50, read: summary(read).p50 };
  } finally {
    await mf.dispose();
  }
}

const tokens = new Map<string, string>();
async function tokenFor(user: string): Promise<string> {
  let token = tokens.get(user);
  if (!token) {
    token = await signUserToken(SECRET, user, Math.floor(Date.now() / 1000) + 3600);
    tokens.set(user, token);
  }
  return token;
}

interface Sample {
  cpuMs: number;
  wallMs: number;
  isolateMs: number;
  kvReads: number;
  sessionCreateMs: number | null;
}

/** One request; `user` null → GET /healthz. */
async function request(worker: { mf: Miniflare; pids: number[] }, user: string | null, query: string): Promise<Sample> {
  const headers = user ? { 'x-user-token': await tokenFor(user) } : undefined;
  const cpuBefore = cpuNs(worker.pids);
  const started = performance.now();
  const response = await worker.mf.dispatchFetch(user ? `http://edge.local/v1/recommendations?user=${user}&${query}` : 'http://edge.local/healthz', headers ? { headers } : {});
  const text = await response.text();
  const wallMs = performance.now() - started;
  const cpuMs = (cpuNs(worker.pids) - cpuBefore) / 1e6;
  if (!user) return { cpuMs, wallMs, isolateMs: 0, kvReads: 0, sessionCreateMs: null };
  const body = JSON.parse(text) as { path: string; degraded: string[] };
  if (body.path !== 'kv-slate' || body.degraded.length > 0) throw new Error(`not a clean KV hit: ${text.slice(0, 300)}`);
  const serverTiming = response.headers.get('server-timing');
  return { cpuMs, wallMs, isolateMs: timing(serverTiming, 'compute') ?? NaN, kvReads: Number(response.headers.get('x-kv-reads')), sessionCreateMs: timing(serverTiming, 'session-create') };
}

interface Variant {
  name: string;
  user: (n: number) => string | null;
  query: (n: number) => string;
}

/**
 * Requests one at a time, the variants interleaved round by round, so every variant meets the same machine
 * conditions (background compilation, GC, other jobs) and their differences are comparable.
 */
async function interleaved(worker: { mf: Miniflare; pids: number[] }, rounds: number, variants: readonly Variant[]): Promise<Map<string, Sample[]>> {
  for (let n = 0; n < 50; n++) for (const v of variants) await request(worker, v.user(n), v.query(n)); // warm-up: JIT, isolate caches
  const out = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let n = 0; n < rounds; n++) for (const v of variants) out.get(v.name)?.push(await request(worker, v.user(n), v.query(n)));
  return out;
}

function report(buildName: Build, variant: Record<string, unknown>, samples: readonly Sample[], floorP50: number, kvRead: number): { kvReadsMean: number; cpuP50: number } {
  const common = { build: buildName, runtime: RUNTIME[buildName], ...variant, command: COMMAND };
  const cpu = summary(samples.map((s) => s.cpuMs));
  const reads = summary(samples.map((s) => s.kvReads));
  emit({ metric: 'cpu_ms_per_request', ...common, ...cpu, p50_above_healthz: round3(cpu.p50 - floorP50), p50_worker_own_estimate: round3(cpu.p50 - floorP50 - reads.p50 * kvRead), goal_p99_ms: 2,
    source: 'workerd process CPU per request (/proc schedstat, all threads, ns), one request at a time; includes HTTP handling and the local KV simulation; worker_own = p50 − /healthz − KV reads × probe cost' });
  emit({ metric: 'isolate_compute_ms', ...common, mean: summary(samples.map((s) => s.isolateMs)).mean, n: samples.length, source: 'in-isolate wall − I/O waits (Server-Timing compute); workerd timers tick in 1 ms steps, so only the mean is meaningful' });
  emit({ metric: 'latency_ms', ...common, ...summary(samples.map((s) => s.wallMs)), source: 'dispatchFetch round trip into workerd (loopback HTTP)' });
  emit({ metric: 'kv_reads_per_request', ...common, ...reads });
  return { kvReadsMean: reads.mean, cpuP50: cpu.p50 };
}

function monthlyReadCost(readsPerRequest: number): number {
  const reads = 1000 * 86_400 * 30 * readsPerRequest;
  return Math.round((Math.max(0, reads - KV_PRICE.includedReadsPerMonth) / 1e6) * KV_PRICE.usdPerMillionReads);
}

async function main(): Promise<void> {
  build();
  const bundles = { default: bundle('default'), free: bundle('free') };
  const persistTo = mkdtempSync(join(tmpdir(), 'edge-bench-kv-'));
  try {
    if (values['size-only']) return;
    const requests = Number(values.requests);
    const cold = Number(values.cold);
    const pool = await writeFixture(persistTo, 200, cold);
    const recentOf = (n: number): string => [pool[n % 50], pool[(n * 7) % 50], pool[(n * 13) % 50]].join(',');
    const userOf = (n: number): string => `u${n % 200}`;
    const after = { plain: 0, rerank: 0 };
    const probe = await kvReadCost(persistTo, requests);
    const kvRead = round3(probe.read - probe.floor);
    emit({ metric: 'local_kv_read_cpu_ms', value: kvRead, floor_p50: probe.floor, read_p50: probe.read, source: 'probe worker: p50 CPU of one KV read of a user slate (simulation + JSON parse) minus its bare answer', command: COMMAND });
    for (const buildName of ['default', 'free'] as const) {
      for (const candidates of [50, 100]) {
        const worker = await startWorker(bundles[buildName].main, persistTo, candidates);
        try {
          if (candidates === 50) {
            // Cold starts first (fresh isolate): each cold user's slate names a model version not loaded yet.
            const warm = await request(worker, 'u0', `k=10&recent=${recentOf(0)}`);
            const colds: Sample[] = [];
            for (let k = 0; k < cold; k++) colds.push(await request(worker, `cold${k}`, `k=10&recent=${recentOf(k)}`));
            if (colds.some((c) => c.sessionCreateMs === null)) throw new Error('a cold request created no reranker session');
            emit({ metric: 'reranker_cold_start', build: buildName, runtime: RUNTIME[buildName], cpu_ms: summary(colds.map((c) => c.cpuMs)), in_isolate_create_ms: summary(colds.map((c) => c.sessionCreateMs ?? NaN)), first_request_of_isolate_cpu_ms: round3(warm.cpuMs),
              source: 'CPU of the first request per model version (model read from KV + session creation + the request); the first request of an isolate also instantiates the runtime', command: COMMAND });
          }
          const variants: Variant[] = [
            { name: 'healthz', user: () => null, query: () => '' },
            ...(candidates === 50 ? [{ name: 'plain', user: userOf, query: () => 'k=10' }] : []),
            { name: 'rerank', user: userOf, query: (n: number) => `k=10&recent=${recentOf(n)}` },
          ];
          const runs = await interleaved(worker, requests, variants);
          const floor = summary((runs.get('healthz') ?? []).map((x) => x.cpuMs));
          emit({ metric: 'cpu_ms_per_request', build: buildName, runtime: RUNTIME[buildName], route: '/healthz', candidates, ...floor, source: 'the floor: workerd HTTP handling + routing', command: COMMAND });
          if (candidates === 50) {
            const plain = report(buildName, { candidates: 0, rerank: false }, runs.get('plain') ?? [], floor.p50, kvRead);
            if (buildName === 'default') after.plain = plain.kvReadsMean;
          }
          const rerank = report(buildName, { candidates, rerank: true }, runs.get('rerank') ?? [], floor.p50, kvRead);
          if (buildName === 'default' && candidates === 50) after.rerank = rerank.kvReadsMean;
        } finally {
          await worker.mf.dispose();
        }
      }
    }
    // Before: the previous code read the pointer, the slate, one card per shortlisted item (2k) and one per recent item.
    const before = { widgetK8: 2 + 2 * 8, widgetK8Recent3: 2 + 2 * 8 + 3, k10Recent3: 2 + 2 * 10 + 3 };
    emit({ metric: 'kv_reads_per_request_before', ...before, source: 'counted from the previous edge/src/slates.ts + recommend.ts: pointer + slate + 2k cards + recent cards', command: COMMAND });
    for (const [variant, reads] of [['before: widget k=8, no recent', before.widgetK8], ['before: widget k=8, 3 recent', before.widgetK8Recent3], ['after: measured mean, no recent', after.plain], ['after: measured mean, 3 recent + rerank', after.rerank]] as const) {
      emit({ metric: 'kv_read_cost_usd_per_month', variant, reads_per_request: reads, requests_per_second: 1000, value: monthlyReadCost(reads), prices: KV_PRICE.source, command: COMMAND });
    }
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
    for (const b of Object.values(bundles)) rmSync(b.dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
