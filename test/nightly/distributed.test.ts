/**
 * The distributed nightly on real processes (issue 14.3): three `nightly:worker` processes and a coordinator
 * on real Redis (BullMQ, own key prefix) writing to a KV over the Cloudflare REST protocol (the local fake
 * API, one per run). One worker is killed with SIGKILL in the middle of a shard: the run still completes (the
 * shard is retried elsewhere), and the KV holds, key for key and byte for byte, what a one-process
 * `npm run nightly` of the same version writes. A second coordinator started meanwhile stops with an error
 * and writes nothing: no key of another version appears.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { killGroup, spawnScript, summaryOf, tempDir, type Spawned } from './helpers.ts';
import { startFakeCloudflareKv, type FakeCloudflareKv } from './fake-cloudflare-kv.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `t-nightly-dist-${process.pid}`;
const creds = { account: 'acct', namespace: 'ns', token: 'tok' };
const VERSION = 'v20260104T000000Z';
const AT = String(Date.UTC(2026, 0, 4));
const JOB = ['--max-users', '240', '--shards', '3', '--batch', '8', '--slate-size', '20', '--users', 'generator', '--no-progress'];
const spawned: Spawned[] = [];
const servers: FakeCloudflareKv[] = [];
let dir: string | undefined;

const kvEnv = (server: FakeCloudflareKv): Record<string, string> => ({ CF_ACCOUNT_ID: creds.account, CF_KV_NAMESPACE_ID: creds.namespace, CF_API_TOKEN: creds.token, CF_API_BASE_URL: server.baseUrl, REDIS_URL });
const start = (script: string, args: string[], env: Record<string, string>): Spawned => {
  const s = spawnScript(script, args, env);
  spawned.push(s);
  return s;
};
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

afterAll(async () => {
  for (const s of spawned) if (s.child.exitCode === null && s.child.signalCode === null) killGroup(s);
  for (const server of servers) await server.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('distributed nightly (BullMQ) with a worker killed mid-shard', () => {
  it('completes, writes what one process writes, and refuses a second coordinator', async () => {
    dir = await tempDir('nightly-dist');
    const single = await startFakeCloudflareKv(creds);
    const shared = await startFakeCloudflareKv(creds);
    servers.push(single, shared);

    // 1. The reference: one process, one thread.
    const reference = await start('scripts/nightly.ts', ['--kv', 'cloudflare', '--threads', '1', '--version', VERSION, '--at', AT, '--state-dir', join(dir, 'state'), ...JOB], kvEnv(single)).done;
    expect(reference.code, reference.stderr).toBe(0);

    // 2. Three workers (slowed down between batches so a shard lasts long enough to be killed in), a coordinator.
    const workerArgs = ['--kv', 'cloudflare', '--queue-prefix', PREFIX, '--threads', '1', '--lock-ms', '3000', '--throttle-ms', '400', '--no-progress'];
    const workers = [0, 1, 2].map(() => start('scripts/nightly-worker.ts', workerArgs, kvEnv(shared)));
    // (with its progress bar on: the bar must not disturb the run)
    const coordinator = start('scripts/nightly.ts', ['--distributed', '--kv', 'cloudflare', '--queue-prefix', PREFIX, '--version', VERSION, '--at', AT, ...JOB.filter((a) => a !== '--no-progress')], kvEnv(shared));

    // 3. SIGKILL the first worker seen writing a user shard, right after its first batch.
    let victim: Spawned | undefined;
    await until('a worker in the middle of a shard', () => (victim = workers.find((w) => /"event":"shard-batch","worker":"[^"]+","job":"[^"]*-shard-\d+","done":8,/.test(w.output()))) !== undefined, 240_000);
    killGroup(victim!);
    expect(victim!.output()).not.toMatch(/"event":"shard-done"[^\n]*-shard-/);

    // 4. A second coordinator started by mistake (a new version) while the first one runs.
    const second = await start('scripts/nightly.ts', ['--distributed', '--kv', 'cloudflare', '--queue-prefix', PREFIX, ...JOB], kvEnv(shared)).done;
    expect(coordinator.child.exitCode, 'the first coordinator must still be running for this check to mean anything').toBeNull();
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another nightly coordinator is running/);

    const run = await coordinator.done;
    expect(run.code, run.stderr).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary).toMatchObject({ mode: 'distributed', version: VERSION, users: 240, shards: 3, flipped: true });
    expect(summary.shardsRetried).toBeGreaterThanOrEqual(1);

    // 5. Key for key, byte for byte, what the one-process run wrote; nothing of another version.
    const versions = new Set([...shared.store.keys()].map((k) => /v\d{8}T\d{6}Z/.exec(k)?.[0]).filter((v) => v !== undefined));
    expect([...versions]).toEqual([VERSION]);
    expect([...shared.store.keys()].sort()).toEqual([...single.store.keys()].sort());
    for (const [key, value] of single.store) expect(shared.store.get(key), key).toBe(value);
    expect([...single.store.keys()].filter((k) => k.startsWith(`slate:${VERSION}:user:`))).toHaveLength(240);
  }, 480_000);
});
