/**
 * `npm run bench:edge`: the edge worker in local workerd (`wrangler dev`), answering from KV.
 *   - bundle size: `wrangler deploy --dry-run` output, raw and gzip, against Cloudflare's limits;
 *   - widget size (raw, gzip);
 *   - latency of a KV hit: sequential requests, p50/p99, with session rerank (recent items → onnxruntime-web)
 *     and, as the peer measured in the same run, without (slate order only); ratio of the two;
 *   - throughput with autocannon (10 connections, bounded duration), with rerank.
 * Slates: real demo models' feature space, 200 users × 100 items written to a temporary local KV.
 * Flags: --requests N (default 300)  --duration S (autocannon, default 10)  --size-only (`npm run edge:size`).
 * Prints JSON lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { encodeSlate, type ItemCard } from '../../shared/contracts/slate.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { itemCardKey, SLATE_POINTER_KEY, slateKey } from '../../shared/kv/keys.ts';
import { createRng } from '../../shared/util/rng.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { freePort, waitForHttp } from './http.ts';

const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, duration: { type: 'string', default: '10' }, 'size-only': { type: 'boolean', default: false } } });
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'edge', ...line }));
const MiB = 1024 * 1024;

function build(): void {
  const result = spawnSync(node, [join(root, 'edge', 'scripts', 'build.ts')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  const widget = readFileSync(join(root, 'edge', 'src', 'generated', 'widget.ts'), 'utf8');
  const code = JSON.parse(widget.slice(widget.indexOf('=') + 1).trim().replace(/;$/, '')) as string;
  emit({ metric: 'widget_js_bytes', value: code.length, unit: 'bytes' });
  emit({ metric: 'widget_js_gzip_bytes', value: gzipSync(code).length, unit: 'bytes' });
}

function bundleSize(): void {
  const outdir = mkdtempSync(join(tmpdir(), 'edge-bundle-'));
  const result = spawnSync(node, [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, '--config', join(root, 'edge', 'wrangler.jsonc')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  if (result.status !== 0) throw new Error(result.stderr || result.stdout);
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(outdir)) {
    const path = join(outdir, file);
    if (!statSync(path).isFile() || file.endsWith('.map') || file === 'README.md') continue;
    const bytes = readFileSync(path);
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  emit({ metric: 'worker_bundle_bytes', value: raw, unit: 'bytes' });
  emit({ metric: 'worker_bundle_gzip_bytes', value: gzip, unit: 'bytes', limit_free_gzip: 3 * MiB, limit_paid_gzip: 10 * MiB, fits_free: gzip <= 3 * MiB, fits_paid: gzip <= 10 * MiB });
}

async function writeFixture(persistTo: string, users: number): Promise<string[]> {
  const version = (JSON.parse(readFileSync(join(root, 'models', 'artifacts', 'current.json'), 'utf8')) as { version: string }).version;
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(root, 'models', 'artifacts', version, 'feature_space.json'), 'utf8'))));
  const rng = createRng(9);
  const kv = await openLocalKv({ persistTo, namespaceId: 'edge-reco-slates' });
  const entries: { key: string; value: string }[] = [];
  const used = new Set<number>();
  for (let u = 0; u < users; u++) {
    const items = Array.from({ length: 100 }, () => 1 + rng.int(space.itemCount));
    items.forEach((i) => used.add(i));
    const slate = encodeSlate({ slateVersion: 'vbench', modelVersion: version, at: Date.now() }, items.map((index, rank) => ({
      id: space.itemId(index) ?? '', score: 1 - rank / 100, category: space.category(index), brand: space.brand(index), priceBucket: space.priceBucket(index), reason: 'Picked for you',
    })));
    entries.push({ key: slateKey('vbench', { kind: 'user', id: `u${u}` }), value: JSON.stringify(slate) });
  }
  for (const index of used) {
    const id = space.itemId(index) ?? '';
    const card: ItemCard = { id, t: `Item ${id}`, pr: 10, img: `/img/${id}.svg`, cat: 'x', f: [space.category(index), space.brand(index), space.priceBucket(index)], st: 3 };
    entries.push({ key: itemCardKey('vbench', id), value: JSON.stringify(card) });
  }
  entries.push({ key: SLATE_POINTER_KEY, value: JSON.stringify({ version: 'vbench', modelVersion: version, createdAt: Date.now() }) });
  await kv.putMany(entries);
  await kv.close();
  return [...used].slice(0, 50).map((i) => space.itemId(i) ?? '');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function latency(url: string, requests: number, query: (n: number) => string): Promise<{ p50: number; p99: number; mean: number }> {
  for (let n = 0; n < 30; n++) await (await fetch(`${url}/v1/recommendations?${query(n)}`)).arrayBuffer(); // warm-up
  const samples: number[] = [];
  for (let n = 0; n < requests; n++) {
    const t = performance.now();
    const response = await fetch(`${url}/v1/recommendations?${query(n)}`);
    const body = (await response.json()) as { path: string; degraded: string[] };
    samples.push(performance.now() - t);
    if (body.path !== 'kv-slate' || body.degraded.length > 0) throw new Error(`not a clean KV hit: ${JSON.stringify(body)}`);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.reduce((s, v) => s + v, 0) / samples.length };
}

async function main(): Promise<void> {
  build();
  bundleSize();
  if (values['size-only']) return;
  const persistTo = mkdtempSync(join(tmpdir(), 'edge-bench-kv-'));
  const recentPool = await writeFixture(persistTo, 200);
  const port = await freePort();
  const child = spawn(node, [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--config', join(root, 'edge', 'wrangler.jsonc'), '--persist-to', persistTo,
    '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', '0', '--log-level', 'error'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, 60_000);
    const requests = Number(values.requests);
    const recent = (n: number): string => [recentPool[n % 50], recentPool[(n * 7) % 50], recentPool[(n * 13) % 50]].join(',');
    const plain = await latency(url, requests, (n) => `user=u${n % 200}&k=10`);
    const rerank = await latency(url, requests, (n) => `user=u${n % 200}&k=10&recent=${recent(n)}`);
    const command = 'npm run bench:edge';
    emit({ metric: 'kv_hit_latency_ms', variant: 'slate order (peer)', p50: +plain.p50.toFixed(2), p99: +plain.p99.toFixed(2), n: requests, command });
    emit({ metric: 'kv_hit_latency_ms', variant: 'with session rerank (onnxruntime-web)', p50: +rerank.p50.toFixed(2), p99: +rerank.p99.toFixed(2), n: requests, ratio_p50_vs_peer: +(rerank.p50 / plain.p50).toFixed(2), command });
    const result = await autocannon({ url: `${url}/v1/recommendations?user=u7&k=10&recent=${recent(3)}`, connections: 10, duration: Number(values.duration) });
    emit({ metric: 'kv_hit_rerank_throughput', value: +result.requests.average.toFixed(1), unit: 'req/s', p50_ms: result.latency.p50, p99_ms: result.latency.p99, non2xx: result.non2xx, connections: 10, duration_s: Number(values.duration), command });
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
