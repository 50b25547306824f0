/**
 * Local KV adapter: Miniflare's KV binding over the persistence directory that `wrangler dev --persist-to
 * <dir>` uses. Wrangler stores local resources under `<dir>/v3` (its getDefaultPersistRoot) and keys a KV
 * namespace's storage by the binding's `id` from wrangler.jsonc, so opening Miniflare with the same root and
 * namespace id makes a running (or later) `wrangler dev` serve exactly what the nightly wrote. This mirrors
 * what `wrangler kv key put --local` does internally (usingLocalNamespace in wrangler's CLI).
 *
 * Writes go through a tiny worker inside workerd that applies a whole batch per request: the per-call
 * binding proxy costs ~2.6 ms a put on this machine, a batch request amortises that round trip.
 */
import { join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import pRetry, { AbortError } from 'p-retry';
import type { KvEntry, KvWriter } from '../../shared/kv/writer.ts';
import { chunk } from './pool.ts';

export interface LocalKvOptions {
  /** The directory given to `wrangler dev --persist-to` (default .wrangler/state). */
  persistTo: string;
  /** The KV namespace id of the SLATES binding in edge/wrangler.jsonc. */
  namespaceId: string;
  /** Entries per batch request into workerd. */
  batchSize?: number;
}

/** Runs inside workerd: applies a batch of puts or deletes, lists a prefix, gets a key. */
const BULK_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/put') {
      const entries = await request.json();
      await Promise.all(entries.map((e) => env.NAMESPACE.put(e.key, e.base64 ? Uint8Array.from(atob(e.value), (ch) => ch.charCodeAt(0)) : e.value)));
      return new Response('ok');
    }
    if (url.pathname === '/delete') {
      const keys = await request.json();
      await Promise.all(keys.map((k) => env.NAMESPACE.delete(k)));
      return new Response('ok');
    }
    if (url.pathname === '/get-many') {
      const keys = await request.json();
      return Response.json(await Promise.all(keys.map((k) => env.NAMESPACE.get(k, 'text'))));
    }
    if (url.pathname === '/get') {
      const value = await env.NAMESPACE.get(url.searchParams.get('key'), 'text');
      return value === null ? new Response(null, { status: 404 }) : new Response(value);
    }
    if (url.pathname === '/list') {
      const cursor = url.searchParams.get('cursor') || undefined;
      const page = await env.NAMESPACE.list({ prefix: url.searchParams.get('prefix') ?? '', cursor, limit: 1000 });
      return Response.json({ keys: page.keys.map((k) => k.name), cursor: page.list_complete ? null : page.cursor });
    }
    return new Response('not found', { status: 404 });
  },
};`;

interface ListPage {
  keys: string[];
  cursor: string | null;
}

export async function openLocalKv(options: LocalKvOptions): Promise<KvWriter> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: BULK_WORKER,
      compatibilityDate: '2025-01-01',
      resourcePersistencePath: join(options.persistTo, 'v3'),
      kvNamespaces: { NAMESPACE: options.namespaceId },
    }),
  );
  await mf.ready;
  const batchSize = options.batchSize ?? 500;
  // The same SQLite files are usually open in another workerd too (`wrangler dev`, the edge under test), and a
  // request racing its writes can answer 500 ("internal error"). Every call here is idempotent (put, delete, get,
  // list), so a 5xx answer is tried again a few times; a 4xx or a failed dispatch is not.
  const call = (path: string, body?: unknown): Promise<Response> =>
    pRetry(
      async () => {
        // A throw here (workerd gone) is not the race: give up at once.
        const response = await mf.dispatchFetch(`http://kv.local${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }).catch((error: unknown) => {
          throw new AbortError(error instanceof Error ? error : String(error));
        });
        if (response.ok || response.status === 404) return response as unknown as Response;
        const error = new Error(`local KV ${path}: HTTP ${response.status} ${await response.text()}`);
        throw response.status >= 500 ? error : new AbortError(error);
      },
      { retries: 4, minTimeout: 100, factor: 2 },
    );
  return {
    async putMany(entries: readonly KvEntry[]) {
      for (const batch of chunk(entries, batchSize)) await (await call('/put', batch)).text();
    },
    async get(key) {
      const response = await call(`/get?key=${encodeURIComponent(key)}`);
      if (response.status === 404) {
        await response.text();
        return null;
      }
      return response.text();
    },
    async getMany(keys) {
      const out: (string | null)[] = [];
      for (const batch of chunk(keys, batchSize)) out.push(...((await (await call('/get-many', batch)).json()) as (string | null)[]));
      return out;
    },
    async deleteMany(keys) {
      for (const batch of chunk(keys, batchSize)) await (await call('/delete', batch)).text();
    },
    async *list(prefix) {
      let cursor = '';
      for (;;) {
        const response = await call(`/list?prefix=${encodeURIComponent(prefix)}&cursor=${encodeURIComponent(cursor)}`);
        const page = (await response.json()) as ListPage;
        yield* page.keys;
        if (page.cursor === null) return;
        cursor = page.cursor;
      }
    },
    close: () => mf.dispose(),
  };
}
