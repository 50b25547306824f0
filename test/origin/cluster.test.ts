/**
 * ORIGIN_WORKERS=2: `node origin/server.ts` as a cluster of two worker processes behind one port, on real Redis and
 * Postgres. Both workers answer (X-Origin-Worker, one new connection per request so the primary's round-robin
 * spreads them), GET /metrics aggregates both workers' counters whichever worker serves it, a new model version
 * published to current.json reaches both workers, the rate limit is one shared budget, a killed worker is
 * replaced, and SIGTERM stops them all.
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, uniqueId } from './support.ts';
import { cloneVersion, privateArtifacts, publish } from '../pipeline/support.ts';
import { spawnOrigin, stop } from '../resilience/support.ts';
import type { ChildProcess } from 'node:child_process';

interface Answer {
  status: number;
  worker: string | undefined;
  body: string;
}

/** One request on a fresh connection (no keep-alive), so the cluster's round-robin sees a new connection each time. */
function call(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { connection: 'close', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-origin-worker'] as string | undefined, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.end(body !== undefined ? JSON.stringify(body) : undefined);
  });
}

const prefix = `test:${uniqueId('cluster')}:`;
let database: { url: string; drop: () => Promise<void> };
let artifacts: { root: string; version: string };
let origin: { url: string; child: ChildProcess };

beforeAll(async () => {
  database = await createTestDatabase();
  artifacts = await privateArtifacts();
  origin = await spawnOrigin({ API_KEYS: API_KEY, ORIGIN_WORKERS: '2', DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, MODELS_DIR: artifacts.root, MODEL_POLL_MS: '200', RATE_LIMIT_BURST: '60', RATE_LIMIT_RPS: '0.1' });
  // readyz answers once the first worker listens; wait until both answer.
  const seen = new Set<string>();
  const deadline = Date.now() + 120_000;
  while (seen.size < 2) {
    if (Date.now() > deadline) throw new Error(`only workers ${[...seen].join(',')} answered`);
    const answer = await call(`${origin.url}/healthz`).catch(() => undefined);
    if (answer?.status === 200 && answer.worker) seen.add(answer.worker);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 180_000);

afterAll(async () => {
  await stop(origin?.child, 'SIGTERM');
  await deleteRedisPrefix(prefix);
  await database?.drop();
  if (artifacts) await rm(artifacts.root, { recursive: true, force: true });
});

describe('ORIGIN_WORKERS=2', () => {
  it('serves from two processes, and /metrics aggregates both from either worker', async () => {
    const perWorker = new Map<string, number>();
    for (let n = 0; n < 20; n++) {
      const answer = await call(`${origin.url}/v1/recommend`, 'POST', { sessionId: `s${n}`, k: 3 });
      expect(answer.status).toBe(200);
      expect(answer.worker).toMatch(/^[0-9]+$/);
      perWorker.set(answer.worker!, (perWorker.get(answer.worker!) ?? 0) + 1);
    }
    expect(perWorker.size).toBe(2);
    // Ask every worker: each answers with the sum over both (20 recommend answers with status 200).
    const servedBy = new Set<string>();
    for (let n = 0; n < 10 && servedBy.size < 2; n++) {
      const metrics = await call(`${origin.url}/metrics`);
      expect(metrics.status).toBe(200);
      servedBy.add(metrics.worker!);
      const count = /origin_http_request_duration_seconds_count\{method="POST",route="\/v1\/recommend",status="200"\} ([0-9]+)/.exec(metrics.body);
      expect(Number(count?.[1])).toBe(20);
      expect(metrics.body).toMatch(new RegExp(`origin_model_version_info\\{version="${artifacts.version}"\\} 1`));
    }
    expect(servedBy.size).toBe(2);
  });

  it('shares one rate-limit budget across the workers (Redis)', async () => {
    // 60 per window; 20 used above. 50 more from the same address, spread over both workers: exactly 40 pass.
    const statuses: number[] = [];
    for (let n = 0; n < 50; n++) statuses.push((await call(`${origin.url}/v1/recommend`, 'POST', { sessionId: 'rl', k: 1 })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('a model version published to current.json reaches both workers', async () => {
    const next = `${artifacts.version}-next`;
    await cloneVersion(artifacts.root, artifacts.version, next);
    await publish(artifacts.root, next);
    const deadline = Date.now() + 60_000;
    for (;;) {
      // origin_model_version_info aggregates with max: the old version disappears only when no worker serves it.
      const metrics = (await call(`${origin.url}/metrics`)).body;
      if (!metrics.includes(`version="${artifacts.version}"`) && metrics.includes(`version="${next}"`)) break;
      if (Date.now() > deadline) throw new Error(`not reloaded everywhere:\n${metrics.split('\n').filter((l) => l.startsWith('origin_model_version_info')).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const versions = new Map<string, string>();
    for (let n = 0; n < 10; n++) {
      const answer = await call(`${origin.url}/readyz`);
      versions.set(answer.worker!, (JSON.parse(answer.body) as { modelVersion: string }).modelVersion);
    }
    expect(Object.fromEntries(versions)).toEqual(Object.fromEntries([...versions.keys()].map((w) => [w, next])));
    expect(versions.size).toBe(2);
    // And both serve with it (an accepted key: this address's bucket was spent above).
    const served = new Map<string, { modelVersion: string; degraded: string[] }>();
    for (let n = 0; n < 10; n++) {
      const answer = await call(`${origin.url}/v1/recommend`, 'POST', { sessionId: `r${n}`, sessionItemIds: ['i10'], k: 3 }, { 'x-api-key': API_KEY });
      expect(answer.status).toBe(200);
      served.set(answer.worker!, JSON.parse(answer.body) as { modelVersion: string; degraded: string[] });
    }
    expect(served.size).toBe(2);
    for (const answer of served.values()) {
      expect(answer.modelVersion).toBe(next);
      expect(answer.degraded).not.toContain('model-unavailable');
    }
  }, 90_000);

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    // The worker processes: the leaves of the process tree under the spawned command (node's launcher → primary → workers).
    const childrenOf = (pid: number): number[] => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const children = (): number[] => {
      const leaves: number[] = [];
      const walk = (pid: number): void => {
        const kids = childrenOf(pid);
        if (kids.length === 0 && pid !== origin.child.pid) leaves.push(pid);
        kids.forEach(walk);
      };
      walk(origin.child.pid!);
      return leaves;
    };
    const before = children();
    expect(before).toHaveLength(2);
    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    const seen = new Set<string>();
    const deadline = Date.now() + 120_000;
    // Worker ids 1 and 2 started; the replacement gets a new id.
    while (![...seen].some((id) => Number(id) > 2) || seen.size < 2) {
      if (Date.now() > deadline) throw new Error(`no replacement worker; seen ${[...seen].join(',')}`);
      const answer = await call(`${origin.url}/healthz`).catch(() => undefined);
      if (answer?.status === 200 && answer.worker) seen.add(answer.worker);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(children()).toHaveLength(2);
    expect(children()).not.toContain(victim);
  }, 150_000);

  it('stops every process on SIGTERM', async () => {
    const child = origin.child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(call(`${origin.url}/healthz`)).rejects.toThrow();
  }, 30_000);
});
