/**
 * Production KV adapter: Workers KV through Cloudflare's official TypeScript SDK (`cloudflare` on npm).
 *   bulk write  client.kv.namespaces.bulkUpdate   (≤ 10,000 pairs, ≤ 100 MB per request)
 *   bulk delete client.kv.namespaces.bulkDelete   (≤ 10,000 keys)
 *   read        client.kv.namespaces.values.get   (404 → null)
 *   list        client.kv.namespaces.keys.list    (cursor pages, iterated by the SDK)
 * The SDK retries 408/409/429/5xx and connection errors with exponential backoff and honours Retry-After;
 * other 4xx fail at once. Keys a bulk write reports as unsuccessful are written again (p-retry). Batches
 * respect both bulk limits and at most `concurrency` requests are in flight (p-map).
 */
import Cloudflare from 'cloudflare';
import pMap from 'p-map';
import pRetry, { AbortError } from 'p-retry';
import type { KvEntry, KvWriter } from '../../shared/kv/writer.ts';

export const BULK_MAX_PAIRS = 10_000;
export const BULK_MAX_BYTES = 100 * 1024 * 1024;

export interface CloudflareKvOptions {
  accountId: string;
  namespaceId: string;
  apiToken: string;
  /** Default https://api.cloudflare.com/client/v4 (tests point it at a local server). */
  baseUrl?: string | undefined;
  concurrency?: number | undefined;
  maxPairs?: number | undefined;
  maxBytes?: number | undefined;
  /** Retries of a failing request (429, 5xx, network) by the SDK; default 7 (8 attempts). */
  maxRetries?: number | undefined;
  /** Per-request timeout (ms); default 60 s. */
  timeoutMs?: number | undefined;
}

/** Splits entries into bulk requests that stay within the pair and byte limits. */
export function planBulkBatches(entries: readonly KvEntry[], maxPairs: number, maxBytes: number): KvEntry[][] {
  const batches: KvEntry[][] = [];
  let current: KvEntry[] = [];
  let bytes = 2;
  for (const entry of entries) {
    // JSON framing per pair: {"key":"…","value":"…"}, plus a comma; escapes are counted by JSON.stringify.
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (current.length > 0 && (current.length >= maxPairs || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 2;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** An SDK error as one line: status and the API's messages (the SDK's own text carries the body). */
function describe(what: string, error: unknown): Error {
  if (error instanceof Cloudflare.APIError) return new Error(`Cloudflare KV ${what}: HTTP ${error.status ?? 'no response'} ${error.message}`, { cause: error });
  return error instanceof Error ? new Error(`Cloudflare KV ${what}: ${error.message}`, { cause: error }) : new Error(`Cloudflare KV ${what}: ${String(error)}`);
}

export function openCloudflareKv(options: CloudflareKvOptions): KvWriter {
  const client = new Cloudflare({
    apiToken: options.apiToken,
    baseURL: options.baseUrl ?? 'https://api.cloudflare.com/client/v4',
    maxRetries: options.maxRetries ?? 7,
    timeout: options.timeoutMs ?? 60_000,
  });
  const account = { account_id: options.accountId };
  const ns = options.namespaceId;
  const concurrency = options.concurrency ?? 4;
  const maxPairs = options.maxPairs ?? BULK_MAX_PAIRS;

  const writeBatch = async (batch: readonly KvEntry[]): Promise<void> => {
    let pending = batch;
    // The API may accept a bulk write and still list keys it could not write: write those again.
    await pRetry(
      async () => {
        let result;
        try {
          result = await client.kv.namespaces.bulkUpdate(ns, { ...account, body: pending.map((e) => ({ key: e.key, value: e.value, ...(e.base64 ? { base64: true } : {}) })) });
        } catch (error) {
          throw new AbortError(describe(`bulk write of ${pending.length}`, error));
        }
        const failed = new Set(result?.unsuccessful_keys ?? []);
        if (failed.size === 0) return;
        pending = pending.filter((e) => failed.has(e.key));
        throw new Error(`Cloudflare KV bulk write: ${failed.size} keys unsuccessful`);
      },
      { retries: 4, minTimeout: 500, factor: 2, randomize: true },
    );
  };

  const get = async (key: string): Promise<string | null> => {
    try {
      const response = await client.kv.namespaces.values.get(key, { ...account, namespace_id: ns });
      return await response.text();
    } catch (error) {
      if (error instanceof Cloudflare.NotFoundError) return null;
      throw describe(`get ${key}`, error);
    }
  };

  return {
    get,
    async getMany(keys) {
      // One read per key, within the concurrency limit (bulkGet reads ≤ 100 text values but not binary ones).
      return pMap(keys, get, { concurrency: concurrency * 4 });
    },
    async putMany(entries) {
      await pMap(planBulkBatches(entries, maxPairs, options.maxBytes ?? BULK_MAX_BYTES), writeBatch, { concurrency });
    },
    async deleteMany(keys) {
      const batches: string[][] = [];
      for (let i = 0; i < keys.length; i += maxPairs) batches.push(keys.slice(i, i + maxPairs));
      await pMap(
        batches,
        async (batch) => {
          try {
            await client.kv.namespaces.bulkDelete(ns, { ...account, body: batch });
          } catch (error) {
            throw describe(`bulk delete of ${batch.length}`, error);
          }
        },
        { concurrency },
      );
    },
    async *list(prefix) {
      try {
        for await (const key of client.kv.namespaces.keys.list(ns, { ...account, prefix, limit: 1000 })) yield key.name;
      } catch (error) {
        throw describe(`list ${prefix}`, error);
      }
    },
    close: async () => {},
  };
}
