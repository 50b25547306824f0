/**
 * A local HTTP server that implements the behaviour of Cloudflare's Workers KV REST endpoints the adapter
 * uses (bulk write/delete, get value, list keys with cursor) over an in-memory map, enforcing the bulk limits
 * and injecting 429 (with Retry-After) / 503 answers on request. It is a stand-in for the Cloudflare API,
 * not Cloudflare itself: it checks the adapter's protocol handling, not Cloudflare's real limits.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCloudflareKv {
  baseUrl: string;
  store: Map<string, string>;
  requests: { method: string; path: string; status: number; pairs: number }[];
  /** Statuses to answer the next requests with, in order, before serving normally. */
  inject: { status: number; retryAfter?: string }[];
  /** Keys the next bulk write that names them does not store and reports in `unsuccessful_keys` (once each). */
  unsuccessfulOnce: Set<string>;
  close(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeCloudflareKv(options: { account: string; namespace: string; token: string; maxPairs?: number }): Promise<FakeCloudflareKv> {
  const store = new Map<string, string>();
  const requests: FakeCloudflareKv['requests'] = [];
  const inject: FakeCloudflareKv['inject'] = [];
  const unsuccessfulOnce = new Set<string>();
  const maxPairs = options.maxPairs ?? 10_000;
  const prefix = `/client/v4/accounts/${options.account}/storage/kv/namespaces/${options.namespace}`;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const text = await body(req);
    const reply = (status: number, payload: unknown, pairs = 0, headers: Record<string, string> = {}): void => {
      requests.push({ method: req.method ?? '', path: url.pathname.slice(prefix.length), status, pairs });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${options.token}`) return reply(403, { success: false, errors: [{ code: 10000, message: 'Authentication error' }] });
    if (!url.pathname.startsWith(prefix)) return reply(404, { success: false, errors: [{ message: 'no such namespace' }] });
    const injected = inject.shift();
    if (injected) return reply(injected.status, { success: false, errors: [{ message: 'injected' }] }, 0, injected.retryAfter ? { 'retry-after': injected.retryAfter } : {});
    const path = url.pathname.slice(prefix.length);
    if (req.method === 'PUT' && path === '/bulk') {
      const pairs = JSON.parse(text) as { key: string; value: string }[];
      if (pairs.length > maxPairs) return reply(413, { success: false, errors: [{ message: `more than ${maxPairs} pairs` }] }, pairs.length);
      if (Buffer.byteLength(text) > 100 * 1024 * 1024) return reply(413, { success: false, errors: [{ message: 'payload over 100 MB' }] });
      const unsuccessful = pairs.filter((pair) => unsuccessfulOnce.delete(pair.key)).map((pair) => pair.key);
      for (const pair of pairs) if (!unsuccessful.includes(pair.key)) store.set(pair.key, pair.value);
      return reply(200, { success: true, errors: [], result: { successful_key_count: pairs.length - unsuccessful.length, unsuccessful_keys: unsuccessful } }, pairs.length);
    }
    if (req.method === 'POST' && path === '/bulk/delete') {
      const keys = JSON.parse(text) as string[];
      if (keys.length > maxPairs) return reply(413, { success: false, errors: [{ message: `more than ${maxPairs} keys` }] }, keys.length);
      for (const key of keys) store.delete(key);
      return reply(200, { success: true, errors: [], result: { successful_key_count: keys.length } }, keys.length);
    }
    if (req.method === 'GET' && path.startsWith('/values/')) {
      const value = store.get(decodeURIComponent(path.slice('/values/'.length)));
      return value === undefined ? reply(404, { success: false, errors: [{ code: 10009, message: 'key not found' }] }) : reply(200, value);
    }
    if (req.method === 'GET' && path === '/keys') {
      const keyPrefix = url.searchParams.get('prefix') ?? '';
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const start = Number(url.searchParams.get('cursor') || 0);
      const keys = [...store.keys()].filter((k) => k.startsWith(keyPrefix)).sort();
      const page = keys.slice(start, start + limit);
      const cursor = start + limit < keys.length ? String(start + limit) : '';
      return reply(200, { success: true, errors: [], result: page.map((name) => ({ name })), result_info: { count: page.length, cursor } });
    }
    return reply(405, { success: false, errors: [{ message: `${req.method} ${path}` }] });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    store,
    requests,
    inject,
    unsuccessfulOnce,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
