/**
 * Production KV adapter: Cloudflare's Workers KV REST API.
 *   PUT    /accounts/{account}/storage/kv/namespaces/{ns}/bulk          body [{key, value}] (≤ 10,000 pairs, ≤ 100 MB)
 *   POST   /accounts/{account}/storage/kv/namespaces/{ns}/bulk/delete   body ["key", ...]   (≤ 10,000 keys)
 *   GET    /accounts/{account}/storage/kv/namespaces/{ns}/values/{key}
 *   GET    /accounts/{account}/storage/kv/namespaces/{ns}/keys?prefix=&cursor=&limit=1000
 * Batches respect both bulk limits, at most `concurrency` requests are in flight, and 429/5xx/network errors
 * are retried with exponential backoff + full jitter, honouring Retry-After.
 */
import { z } from 'zod';
import type { KvEntry, KvWriter } from '../../shared/kv/writer.ts';
import { backoffDelayMs, DEFAULT_BACKOFF, isRetryableStatus, retryAfterMs, type BackoffPolicy } from './backoff.ts';
import { forEachLimited } from './pool.ts';

export const BULK_MAX_PAIRS = 10_000;
export const BULK_MAX_BYTES = 100 * 1024 * 1024;

export interface CloudflareKvOptions {
  accountId: string;
  namespaceId: string;
  apiToken: string;
  /** Default https://api.cloudflare.com/client/v4 (tests point it at a local server). */
  baseUrl?: string;
  concurrency?: number;
  maxPairs?: number;
  maxBytes?: number;
  backoff?: BackoffPolicy;
  /** Injected for tests; defaults to setTimeout / Math.random. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called on every retry (logging, metrics). */
  onRetry?: (info: { attempt: number; status: number | 'network'; delayMs: number }) => void;
}

const EnvelopeSchema = z.object({ success: z.boolean(), errors: z.array(z.unknown()).default([]) });
const KeysPageSchema = z.object({
  success: z.boolean(),
  result: z.array(z.object({ name: z.string() })),
  result_info: z.object({ cursor: z.string().optional().nullable() }).optional(),
});

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

export function openCloudflareKv(options: CloudflareKvOptions): KvWriter {
  const base = `${options.baseUrl ?? 'https://api.cloudflare.com/client/v4'}/accounts/${options.accountId}/storage/kv/namespaces/${options.namespaceId}`;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? 4;
  const headers = { authorization: `Bearer ${options.apiToken}` };

  /** One request with retries; returns the final response (2xx or a non-retryable status). */
  const request = async (path: string, init: RequestInit): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      let status: number | 'network';
      let retryAfter: number | undefined;
      try {
        const response = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
        if (!isRetryableStatus(response.status)) return response;
        status = response.status;
        retryAfter = retryAfterMs(response.headers.get('retry-after'), Date.now());
        await response.body?.cancel();
      } catch (error) {
        if (attempt >= policy.maxAttempts) throw error;
        status = 'network';
      }
      if (attempt >= policy.maxAttempts) throw new Error(`Cloudflare KV ${path}: gave up after ${attempt} attempts (last status ${status})`);
      const delayMs = backoffDelayMs(policy, attempt, random(), retryAfter);
      options.onRetry?.({ attempt, status, delayMs });
      await sleep(delayMs);
    }
  };

  const expectSuccess = async (response: Response, what: string): Promise<void> => {
    const text = await response.text();
    const parsed = EnvelopeSchema.safeParse(safeJson(text));
    if (!response.ok || !parsed.success || !parsed.data.success) throw new Error(`Cloudflare KV ${what}: HTTP ${response.status} ${text.slice(0, 300)}`);
  };

  const get = async (key: string): Promise<string | null> => {
    const response = await request(`/values/${encodeURIComponent(key)}`, { method: 'GET' });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw new Error(`Cloudflare KV get ${key}: HTTP ${response.status}`);
    return response.text();
  };

  return {
    get,
    async getMany(keys) {
      // The REST API has no multi-get: parallel single reads within the concurrency limit.
      const out = new Array<string | null>(keys.length).fill(null);
      await forEachLimited(keys.map((key, i) => ({ key, i })), concurrency * 4, async ({ key, i }) => {
        out[i] = await get(key);
      });
      return out;
    },
    async putMany(entries) {
      const batches = planBulkBatches(entries, options.maxPairs ?? BULK_MAX_PAIRS, options.maxBytes ?? BULK_MAX_BYTES);
      await forEachLimited(batches, concurrency, async (batch) => {
        const response = await request('/bulk', { method: 'PUT', body: JSON.stringify(batch), headers: { 'content-type': 'application/json' } });
        await expectSuccess(response, `bulk write of ${batch.length}`);
      });
    },
    async deleteMany(keys) {
      const batches: string[][] = [];
      const maxKeys = options.maxPairs ?? BULK_MAX_PAIRS;
      for (let i = 0; i < keys.length; i += maxKeys) batches.push(keys.slice(i, i + maxKeys));
      await forEachLimited(batches, concurrency, async (batch) => {
        const response = await request('/bulk/delete', { method: 'POST', body: JSON.stringify(batch), headers: { 'content-type': 'application/json' } });
        await expectSuccess(response, `bulk delete of ${batch.length}`);
      });
    },
    async *list(prefix) {
      let cursor = '';
      for (;;) {
        const query = new URLSearchParams({ prefix, limit: '1000', ...(cursor ? { cursor } : {}) });
        const response = await request(`/keys?${query}`, { method: 'GET' });
        const page = KeysPageSchema.parse(await response.json());
        for (const key of page.result) yield key.name;
        const next = page.result_info?.cursor;
        if (!next) return;
        cursor = next;
      }
    },
    close: async () => {},
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
