import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudflareKv, planBulkBatches } from '../../adapters/kv/cloudflare.ts';
import { backoffDelayMs, retryAfterMs } from '../../adapters/kv/backoff.ts';
import { listAll } from '../../shared/kv/writer.ts';
import { startFakeCloudflareKv, type FakeCloudflareKv } from './fake-cloudflare-kv.ts';

const creds = { account: 'acc1', namespace: 'ns1', token: 'tok' };
let server: FakeCloudflareKv;
beforeAll(async () => {
  server = await startFakeCloudflareKv({ ...creds, maxPairs: 1000 });
});
afterAll(async () => {
  await server.close();
});

function adapter(extra: { sleeps?: number[]; maxPairs?: number; maxBytes?: number } = {}) {
  return openCloudflareKv({
    accountId: creds.account,
    namespaceId: creds.namespace,
    apiToken: creds.token,
    baseUrl: server.baseUrl,
    maxPairs: extra.maxPairs ?? 1000,
    maxBytes: extra.maxBytes,
    concurrency: 3,
    backoff: { baseMs: 100, maxMs: 2000, maxAttempts: 5 },
    random: () => 0.5,
    sleep: async (ms) => {
      extra.sleeps?.push(ms);
    },
  });
}

describe('Cloudflare KV REST adapter against a local server implementing the bulk endpoints', () => {
  it('splits writes into bulk requests within the pair limit and reads them back', async () => {
    server.requests.length = 0;
    const kv = adapter();
    const entries = Array.from({ length: 2500 }, (_, i) => ({ key: `slate:v1:user:u${i}`, value: JSON.stringify({ n: i }) }));
    await kv.putMany(entries);
    const bulk = server.requests.filter((r) => r.path === '/bulk');
    expect(bulk.map((r) => r.pairs).sort((a, b) => a - b)).toEqual([500, 1000, 1000]);
    expect(await kv.get('slate:v1:user:u1234')).toBe('{"n":1234}');
    expect(await kv.get('missing')).toBeNull();
    const listed = await listAll(kv, 'slate:v1:user:');
    expect(listed).toHaveLength(2500);
    await kv.deleteMany(listed.slice(0, 1500));
    expect(await listAll(kv, 'slate:v1:user:')).toHaveLength(1000);
  });

  it('respects the byte limit per request', () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(100) }));
    const batches = planBulkBatches(entries, 10_000, 350);
    expect(batches.length).toBeGreaterThan(3);
    for (const batch of batches) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(350);
    expect(batches.flat()).toEqual(entries);
  });

  it('retries 429 and 5xx with backoff, honouring Retry-After', async () => {
    const sleeps: number[] = [];
    const kv = adapter({ sleeps });
    server.inject.push({ status: 429, retryAfter: '1' }, { status: 503 }, { status: 429 });
    await kv.putMany([{ key: 'retry:me', value: 'ok' }]);
    expect(server.store.get('retry:me')).toBe('ok');
    // attempt 1: Retry-After 1 s beats jitter 50 ms; attempt 2: 0.5 × 200; attempt 3: 0.5 × 400.
    expect(sleeps).toEqual([1000, 100, 200]);
  });

  it('gives up after the attempt budget and surfaces the failure', async () => {
    const kv = adapter();
    for (let i = 0; i < 5; i++) server.inject.push({ status: 503 });
    await expect(kv.putMany([{ key: 'never', value: 'x' }])).rejects.toThrow(/gave up after 5 attempts/);
    expect(server.store.has('never')).toBe(false);
  });

  it('does not retry client errors', async () => {
    const kv = openCloudflareKv({ accountId: creds.account, namespaceId: creds.namespace, apiToken: 'wrong', baseUrl: server.baseUrl, sleep: async () => {} });
    await expect(kv.putMany([{ key: 'a', value: 'b' }])).rejects.toThrow(/HTTP 403/);
  });
});

describe('backoff policy', () => {
  it('grows exponentially with full jitter and caps', () => {
    const policy = { baseMs: 100, maxMs: 1000, maxAttempts: 9 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(policy, a, 0.999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(policy, 3, 0)).toBe(0);
  });
  it('parses Retry-After seconds and HTTP dates', () => {
    expect(retryAfterMs('2', 0)).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
