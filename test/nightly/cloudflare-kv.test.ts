/**
 * The Cloudflare KV adapter (official `cloudflare` SDK + p-retry) against a local server that implements the
 * REST endpoints it uses (test/nightly/fake-cloudflare-kv.ts): bulk batching by pairs and bytes, read, list,
 * delete, re-writes of keys reported unsuccessful, retries of 429 (honouring Retry-After) and 5xx, giving up after the retry budget, no retry on 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudflareKv, planBulkBatches } from '../../adapters/kv/cloudflare.ts';
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

function adapter(extra: { maxPairs?: number; maxRetries?: number; token?: string } = {}) {
  return openCloudflareKv({
    accountId: creds.account,
    namespaceId: creds.namespace,
    apiToken: extra.token ?? creds.token,
    baseUrl: server.baseUrl,
    maxPairs: extra.maxPairs ?? 1000,
    concurrency: 3,
    maxRetries: extra.maxRetries ?? 4,
  });
}

describe('Cloudflare KV adapter (cloudflare SDK) against a local server implementing the bulk endpoints', () => {
  it('splits writes into bulk requests within the pair limit and reads them back', async () => {
    server.requests.length = 0;
    const kv = adapter();
    const entries = Array.from({ length: 2500 }, (_, i) => ({ key: `slate:v1:user:u${i}`, value: JSON.stringify({ n: i }) }));
    await kv.putMany(entries);
    const bulk = server.requests.filter((r) => r.path === '/bulk');
    expect(bulk.map((r) => r.pairs).sort((a, b) => a - b)).toEqual([500, 1000, 1000]);
    expect(await kv.get('slate:v1:user:u1234')).toBe('{"n":1234}');
    expect(await kv.get('missing')).toBeNull();
    expect(await kv.getMany(['slate:v1:user:u7', 'missing'])).toEqual(['{"n":7}', null]);
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

  it('retries 429 and 5xx, waiting at least what Retry-After asks', async () => {
    server.requests.length = 0;
    const kv = adapter();
    server.inject.push({ status: 429, retryAfter: '1' }, { status: 503 }, { status: 429 });
    const started = Date.now();
    await kv.putMany([{ key: 'retry:me', value: 'ok' }]);
    expect(server.store.get('retry:me')).toBe('ok');
    expect(server.requests.map((r) => r.status)).toEqual([429, 503, 429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('writes again the keys a bulk write reports as unsuccessful', async () => {
    server.requests.length = 0;
    const kv = adapter();
    server.unsuccessfulOnce.add('partial:b');
    await kv.putMany([{ key: 'partial:a', value: '1' }, { key: 'partial:b', value: '2' }]);
    expect([server.store.get('partial:a'), server.store.get('partial:b')]).toEqual(['1', '2']);
    expect(server.requests.filter((r) => r.path === '/bulk').map((r) => r.pairs)).toEqual([2, 1]);
  });

  it('gives up after the retry budget and surfaces the failure', async () => {
    const kv = adapter({ maxRetries: 2 });
    for (let i = 0; i < 3; i++) server.inject.push({ status: 503 });
    await expect(kv.putMany([{ key: 'never', value: 'x' }])).rejects.toThrow(/bulk write of 1: HTTP 503/);
    expect(server.store.has('never')).toBe(false);
    expect(server.inject).toHaveLength(0);
  });

  it('does not retry client errors', async () => {
    server.requests.length = 0;
    const kv = adapter({ token: 'wrong' });
    await expect(kv.putMany([{ key: 'a', value: 'b' }])).rejects.toThrow(/HTTP 403/);
    expect(server.requests).toHaveLength(1);
  });
});
