/**
 * `npm run bench:load`: concurrent HTTP load (autocannon) on 127.0.0.1 only, bounded in time, against
 * `node origin/server.ts` serving a synthetic catalogue of --items (default 1M; random-weight models of the real
 * architectures, scripts/bench/load-fixture.ts) on real Postgres and Redis (DATABASE_URL / REDIS_URL, default the
 * local ones; a private database and key prefix, removed after). In the same run, for each --workers setting
 * (default "1,auto": one process, then ORIGIN_WORKERS=auto = one per core):
 *   - origin POST /v1/recommend (known users with histories, anonymous sessions with recent items): rps, p50, p99;
 *   - the throughput ratio of each setting to the first, and the origin's own CPU per request and cores used
 *     (/proc schedstat of all its processes): on a busy machine the ratio is capped by the cores the origin got,
 *     while CPU per request says what each answer costs whatever else runs; beside them the cores used in the same
 *     window by what shares the machine (this process's autocannon, redis-server, postgres);
 * then, with the last setting, POST /v1/events (batches of 10 unique events) and the RSS of all its processes.
 * Flags: --duration S (default 10) --connections C (default 16) --items N --users N --workers 1,auto. JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from './http.ts';
import { loadFixture } from './load-fixture.ts';
import { cpuNs, processesNamed } from './process-cpu.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    items: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '1,auto' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const items = Number(values.items);
const settings = values.workers.split(',').map((w) => w.trim());
const command = `npm run bench:load -- --items ${items} --duration ${duration} --connections ${connections} --workers ${values.workers}`;
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'load', items, duration_s: duration, connections, command, ...line }));

/** A process and all its descendants (the cluster's workers), from /proc/<pid>/task/<pid>/children (Linux). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // ended, or no children file
  }
  return [pid, ...children.flatMap(processTree)];
}

/** VmRSS of a process and its children (the cluster's workers), bytes (Linux). */
function rssTree(pid: number): number {
  const rss = (p: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file: count the process alone
  }
  return rss(pid) + children.reduce((sum, child) => sum + rss(child), 0);
}

async function startOrigin(env: Record<string, string>, workers: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'origin', 'server.ts')], {
    cwd: root, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_RPS: '1000000', RATE_LIMIT_BURST: '1000000' },
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  // Ready when every worker has answered /readyz (a new connection each time, so round-robin reaches them all).
  const seen = new Set<string>();
  const deadline = Date.now() + 600_000;
  while (seen.size < workers) {
    if (child.exitCode !== null) throw new Error(`origin exited ${child.exitCode}: ${log}`);
    if (Date.now() > deadline) throw new Error(`origin not ready: ${log}`);
    try {
      const response = await fetch(`${url}/readyz`, { headers: { connection: 'close' }, keepalive: false });
      if (response.ok) seen.add(response.headers.get('x-origin-worker') ?? 'single');
    } catch {
      // starting
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, child };
}

async function stopOrigin(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** From the origin's /metrics (summed over workers): item-stats lookups by result, and the pipeline's batch sizes. */
async function originCounters(url: string): Promise<{ hit: number; miss: number; batches: number; batched: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    hit: value('origin_item_stats_lookups_total{result="hit"}'),
    miss: value('origin_item_stats_lookups_total{result="miss"}'),
    batches: value('origin_pipeline_batch_size_count'),
    batched: value('origin_pipeline_batch_size_sum'),
  };
}

async function recommendLoad(url: string, apiKey: string, users: number, seconds: number): Promise<Awaited<ReturnType<typeof autocannon>>> {
  let n = 0;
  return autocannon({
    url, connections, duration: seconds,
    requests: [{
      method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      setupRequest: (req) => {
        n++;
        const body = n % 2 === 0 ? { userId: `u${n % users}`, k: 10 } : { sessionId: `s${n}`, k: 10, sessionItemIds: [`i${n % items}`, `i${(n * 7) % items}`] };
        return { ...req, body: JSON.stringify(body) };
      },
    }],
  });
}

async function main(): Promise<void> {
  const fixture = await loadFixture(root, items, Number(values.users));
  emit({ target: 'fixture', users_with_history: fixture.users, setup_s: +fixture.seconds.toFixed(1) });
  // Called as the edge calls it (API key): a userId is honoured only with proof (origin/http/user-identity.ts).
  const apiKey = `bench-load-key-${randomUUID()}`;
  const env = { ...fixture.env, API_KEYS: apiKey };
  let baseline: number | undefined;
  let last: { url: string; child: ChildProcess } | undefined;
  try {
    for (const [index, setting] of settings.entries()) {
      const workers = setting === 'auto' ? availableParallelism() : Number(setting);
      const origin = await startOrigin({ ...env, ORIGIN_WORKERS: setting }, workers);
      // What the load exercises: a known user's answer must come from retrieval + ranking, not a degraded path.
      const sample = (await (await fetch(`${origin.url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ userId: 'u1', k: 10 }) })).json()) as { degraded?: string[]; items?: unknown[] };
      await recommendLoad(origin.url, apiKey, fixture.users, Math.min(3, duration)); // warm-up (JIT, caches)
      const pids = processTree(origin.child.pid ?? 0);
      // What else shares the cores: this process (autocannon), Redis and Postgres serving the origin.
      const others = { load_generator: [process.pid], redis: processesNamed('redis-server'), postgres: processesNamed('postgres') };
      const othersBefore = Object.fromEntries(Object.entries(others).map(([name, list]) => [name, cpuNs(list)]));
      const before = await originCounters(origin.url);
      const cpuBefore = cpuNs(pids);
      const result = await recommendLoad(origin.url, apiKey, fixture.users, duration);
      const cpuMs = (cpuNs(pids) - cpuBefore) / 1e6;
      const after = await originCounters(origin.url);
      const statsHits = after.hit - before.hit;
      const statsLookups = statsHits + after.miss - before.miss;
      const batches = after.batches - before.batches;
      const othersCores = Object.fromEntries(Object.entries(others).map(([name, list]) => [name, +((cpuNs(list) - othersBefore[name]!) / 1e9 / duration).toFixed(2)]));
      const first = (baseline ??= result.requests.average);
      emit({ target: 'origin POST /v1/recommend', origin_workers: setting, processes: workers, rps: +result.requests.average.toFixed(1), p50_ms: result.latency.p50, p99_ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors, throughput_vs_first: +(result.requests.average / first).toFixed(2), cpu_ms_per_request: +(cpuMs / Math.max(1, result.requests.total)).toFixed(2), cores_used: +(cpuMs / 1000 / duration).toFixed(2), other_cores_used: othersCores, machine_cores: availableParallelism(), item_stats_cache_hit_ratio: statsLookups > 0 ? +(statsHits / statsLookups).toFixed(2) : null, mean_pipeline_batch: batches > 0 ? +((after.batched - before.batched) / batches).toFixed(2) : null, sample_items: sample.items?.length ?? 0, sample_degraded: sample.degraded ?? [] });
      if (index < settings.length - 1) await stopOrigin(origin.child);
      else last = origin;
    }
    if (!last) return;
    const rssBefore = rssTree(last.child.pid ?? 0);
    const runId = randomUUID().slice(0, 8);
    let sent = 0;
    const events = await autocannon({
      url: last.url, connections, duration,
      requests: [{
        method: 'POST', path: '/v1/events', headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const batch = Array.from({ length: 10 }, () => ({ eventId: `load-${runId}-${sent++}`, type: 'view', itemId: `i${sent % items}`, sessionId: `s${sent % 500}`, userId: `u${sent % fixture.users}` }));
          return { ...req, body: JSON.stringify({ events: batch }) };
        },
      }],
    });
    const rssAfter = rssTree(last.child.pid ?? 0);
    emit({ target: 'origin POST /v1/events (batches of 10)', origin_workers: settings.at(-1), rps: +events.requests.average.toFixed(1), events_per_s: +(events.requests.average * 10).toFixed(0), p50_ms: events.latency.p50, p99_ms: events.latency.p99, non2xx: events.non2xx, errors: events.errors, requests_ok: events.requests.total - events.non2xx });
    emit({ target: 'origin RSS during event load (all processes)', origin_workers: settings.at(-1), rss_before_mb: +(rssBefore / 1048576).toFixed(1), rss_after_mb: +(rssAfter / 1048576).toFixed(1) });
  } finally {
    if (last) await stopOrigin(last.child);
    await fixture.remove();
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
