/**
 * The distributed nightly flips the pointer only when every shard job has completed: with a worker whose KV
 * writes are refused (403, a permanent error) the shard jobs fail after their attempts, the coordinator fails
 * and no pointer is written. Re-running the coordinator for the same version, with a working worker, retries
 * the failed jobs and completes the version. Real Redis (BullMQ, own prefix), real ONNX models, the
 * Cloudflare KV adapter against the local fake API.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { openCloudflareKv } from '../../adapters/kv/cloudflare.ts';
import { demoInputs, loadModelArtifacts } from '../../batch/nightly/inputs.ts';
import { runCoordinator, type CoordinatorOptions } from '../../batch/nightly/distributed/coordinator.ts';
import { startShardWorker } from '../../batch/nightly/distributed/worker.ts';
import { root } from './helpers.ts';
import { startFakeCloudflareKv, type FakeCloudflareKv } from './fake-cloudflare-kv.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `t-nightly-distfail-${process.pid}`;
const creds = { account: 'acct', namespace: 'ns', token: 'tok' };
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
let server: FakeCloudflareKv | undefined;
const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.close();
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('distributed nightly: a shard that cannot be written', () => {
  it('fails the run before the flip, and a re-run of the version completes it', async () => {
    server = await startFakeCloudflareKv(creds);
    const kvWith = (token: string) => openCloudflareKv({ accountId: creds.account, namespaceId: creds.namespace, apiToken: token, baseUrl: server!.baseUrl, maxRetries: 0 });
    const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    const demo = demoInputs({}, 30);
    const worker = (token: string) => {
      const w = startShardWorker({ connection: redis.duplicate(), prefix: PREFIX, kv: kvWith(token), artifactsRoot: join(root, 'models', 'artifacts'), source: {}, threads: 1, lockMs: 5000 });
      closers.push(() => w.close());
      return w;
    };
    const coordinator: CoordinatorOptions = {
      connection: redis,
      prefix: PREFIX,
      kv: kvWith(creds.token),
      space: artifacts.space,
      sessionVectors: artifacts.sessionVectors,
      items: demo.items.slice(0, 100),
      segments: demo.dataset.segments,
      version: 'v20260105T000000Z',
      modelVersion: artifacts.version,
      at: Date.UTC(2026, 0, 5),
      shards: 2,
      batchSize: 16,
      slateSize: 10,
      usersFrom: 'generator',
      maxUsers: 30,
      attempts: 2,
      pollMs: 100,
    };

    const refused = worker('wrong-token');
    await expect(runCoordinator(coordinator)).rejects.toThrow(/failed after 2 attempts: .*HTTP 403/);
    expect(server.store.has(SLATE_POINTER_KEY)).toBe(false);
    expect([...server.store.keys()].some((k) => k.startsWith('slate:v20260105T000000Z:user:'))).toBe(false);
    await refused.close();

    worker(creds.token);
    const summary = await runCoordinator(coordinator);
    expect(summary).toMatchObject({ users: 30, flipped: true, shardsRetried: 3 });
    expect(JSON.parse(server.store.get(SLATE_POINTER_KEY) ?? '{}')).toMatchObject({ version: 'v20260105T000000Z' });
    expect([...server.store.keys()].filter((k) => k.startsWith('slate:v20260105T000000Z:user:'))).toHaveLength(30);
  }, 180_000);
});
