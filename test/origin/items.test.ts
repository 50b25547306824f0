/**
 * The catalogue API on the real service (Postgres, Redis, committed demo models): PUT /v1/items stores the
 * valid rows and reports the others by index, idempotently; DELETE /v1/items/:id retires an item, and the
 * running origin never recommends it again, without a restart; a title change shows in the answer's cards.
 * A second catalogue (another origin's) follows a write made by SQL through LISTEN/NOTIFY alone.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { MAX_ITEMS_PER_UPSERT } from '../../shared/contracts/import.ts';
import { openDatabase, type DatabaseHandle } from '../../adapters/postgres/database.ts';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { catalogFromDatabase } from '../../origin/catalog-source.ts';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

let database: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const prefix = `${uniqueId('items')}:`;
const auth = { 'x-api-key': API_KEY, 'content-type': 'application/json' };

const put = (body: unknown, headers: Record<string, string> = auth): Promise<Response> => fetch(`${origin.url}/v1/items`, { method: 'PUT', headers, body: JSON.stringify(body) });
const query = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
};
const recommend = async (session: string): Promise<{ id: string; title?: string | undefined }[]> => {
  const response = await postJson(`${origin.url}/v1/recommend`, { sessionId: session, sessionItemIds: ['i3', 'i4'], k: 20 });
  expect(response.status).toBe(200);
  return RecommendResponseSchema.parse(await response.json()).items;
};

beforeAll(async () => {
  database = await createTestDatabase();
  // CATALOG_REFRESH_MS of an hour: whatever the origin learns, it learns from the write itself or NOTIFY.
  origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, CATALOG_REFRESH_MS: '3600000', RATE_LIMIT_BURST: '100000', RATE_LIMIT_RPS: '100000' });
});
afterAll(async () => {
  await origin?.close();
  await database?.drop();
  await deleteRedisPrefix(prefix);
});

describe('PUT /v1/items', () => {
  it('stores the valid rows, reports the others by index with reasons, and is idempotent', async () => {
    const body = {
      items: [
        { id: 'new-1', title: 'Brand New Lamp', category: 'Home', brand: 'Lumo', price: 25, stock: 3, createdAt: '2026-01-02T00:00:00Z' },
        { id: 'bad id!', title: 'x' },
        { id: 'new-2', title: 'Desk', price: -1 },
        { id: 'new-3', title: 'Chair', tags: ['office', 'wood'] },
      ],
    };
    const first = await put(body);
    expect(first.status).toBe(200);
    const result = (await first.json()) as { stored: number; rejected: { index: number; id?: string; reasons: string[] }[] };
    expect(result.stored).toBe(2);
    expect(result).toMatchObject({ edge: 'next-nightly' }); // no slate KV wired: the edge follows at the nightly
    expect(result.rejected.map((r) => [r.index, r.id])).toEqual([[1, 'bad id!'], [2, 'new-2']]);
    expect(result.rejected[0]?.reasons.join(' ')).toContain('id');
    expect(result.rejected[1]?.reasons.join(' ')).toContain('price');
    const stored = await query("select id, title, category, brand, price, stock, created_at from items where id like 'new-%' order by id");
    expect(stored).toEqual([
      { id: 'new-1', title: 'Brand New Lamp', category: 'Home', brand: 'Lumo', price: 25, stock: 3, created_at: String(Date.UTC(2026, 0, 2)) },
      { id: 'new-3', title: 'Chair', category: 'Unknown', brand: 'Unknown', price: 0, stock: 1, created_at: expect.any(String) },
    ]);
    const again = await put(body);
    expect(((await again.json()) as { stored: number }).stored).toBe(2);
    expect(await query("select id, title, category, brand, price, stock, created_at from items where id like 'new-%' order by id")).toEqual(stored);
  });

  it('refuses a batch without a key, over the maximum, or with no valid row', async () => {
    expect((await put({ items: [{ id: 'k', title: 'k' }] }, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await put({ items: [{ id: 'k', title: 'k' }] }, { 'content-type': 'application/json', 'x-api-key': 'wrong-key-0123456789' })).status).toBe(403);
    const tooMany = await put({ items: Array.from({ length: MAX_ITEMS_PER_UPSERT + 1 }, (_, i) => ({ id: `m${i}`, title: 't' })) });
    expect(tooMany.status).toBe(400);
    const none = await put({ items: [{ id: 'x' }] });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { rejected: unknown[] }).rejected).toHaveLength(1);
  });
});

describe('OpenAPI', () => {
  it('documents the catalogue API with its row schema', async () => {
    const doc = (await (await fetch(`${origin.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(Object.keys(doc.paths['/v1/items'] ?? {})).toEqual(['put']);
    expect(Object.keys(doc.paths['/v1/items/{id}'] ?? {})).toEqual(['delete']);
    expect(Object.keys(doc.components.schemas.ItemUpsertResult?.properties ?? {})).toEqual(['stored', 'rejected', 'edge']);
    expect(JSON.stringify(doc.components.schemas.ItemUpsert)).toContain('"maxItems":1000');
  });
});

/** A second origin's catalogue on the test database (its own connection and LISTEN), stopped after `use`. */
async function withCatalogSource(options: Parameters<typeof catalogFromDatabase>[2], use: (catalog: InMemoryItemCatalog, source: ReturnType<typeof catalogFromDatabase>) => Promise<void>): Promise<void> {
  let handle: DatabaseHandle | undefined;
  let source: ReturnType<typeof catalogFromDatabase> | undefined;
  try {
    handle = await openDatabase({ databaseUrl: database.url });
    const catalog = new InMemoryItemCatalog([]);
    source = catalogFromDatabase(handle, catalog, options);
    await use(catalog, source);
  } finally {
    await source?.stop();
    await handle?.close();
  }
}

describe('catalogue changes reach the running origin', () => {
  it('a retired item is never recommended again; a new title shows in the cards', async () => {
    const before = await recommend(uniqueId('s'));
    const [target, renamed] = before;
    expect(target && renamed).toBeTruthy();
    const retired = await fetch(`${origin.url}/v1/items/${target?.id}`, { method: 'DELETE', headers: auth });
    expect(retired.status).toBe(200);
    expect(await query('select stock from items where id = $1', [target?.id])).toEqual([{ stock: 0 }]);
    const renamedTitle = `Renamed ${uniqueId('t')}`;
    expect((await put({ items: [{ id: renamed?.id, title: renamedTitle, category: 'Renamed' }] })).status).toBe(200);
    const titles = new Set<string | undefined>();
    for (let i = 0; i < 5; i++) {
      const after = await recommend(uniqueId('s'));
      expect(after.map((item) => item.id)).not.toContain(target?.id);
      for (const item of after) if (item.id === renamed?.id) titles.add(item.title);
    }
    expect([...titles]).toEqual([renamedTitle]);
    expect((await fetch(`${origin.url}/v1/items/no-such-item`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });

  it('events about an item put a moment ago are accepted (they were "unknown item" before)', async () => {
    const id = uniqueId('fresh-');
    const event = { events: [{ eventId: uniqueId('e'), type: 'view', itemId: id, sessionId: uniqueId('s'), ts: Date.now() }] };
    expect((await postJson(`${origin.url}/v1/events`, event)).status).toBe(400);
    expect((await put({ items: [{ id, title: 'Fresh Arrival', category: 'Home' }] })).status).toBe(200);
    const accepted = await postJson(`${origin.url}/v1/events`, event);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ accepted: 1 });
  });

  it('another origin\'s catalogue follows a write by SQL through NOTIFY alone', async () => {
    let changes = 0;
    await withCatalogSource({ refreshMs: 3_600_000, onChanged: async () => void changes++ }, async (catalog, source) => {
      await source.refresh();
      expect(catalog.isAvailable('i7')).toBe(true);
      await source.refresh(); // re-reads the last seconds' rows: nothing differs, so no change is signalled
      expect(changes).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 500)); // the LISTEN connection is up
      await query("update items set stock = 0, updated_at = now() where id = 'i7'");
      const deadline = Date.now() + 10_000;
      while (catalog.isAvailable('i7') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(catalog.isAvailable('i7')).toBe(false);
      expect(changes).toBe(2);
    });
  });

  it('a bulk write (one transaction, one updated_at) is read again within the overlap only, not at every refresh', async () => {
    const loads: { rowsRead: number; changed: number }[] = [];
    await withCatalogSource({ refreshMs: 3_600_000, overlapMs: 300, onLoaded: (load) => loads.push(load) }, async (catalog, source) => {
      await source.refresh();
      const total = catalog.size;
      expect(total).toBeGreaterThan(1000);
      await query('update items set updated_at = now()'); // every row, one timestamp: what an import's transaction leaves
      await source.refresh();
      expect(loads.at(-1)).toEqual({ rowsRead: total, changed: 0 }); // within the overlap: read again, nothing differs
      await new Promise((resolve) => setTimeout(resolve, 700));
      await source.refresh();
      await source.refresh();
      // Before, "back" was counted from the newest row (the bulk write's one timestamp): every refresh read them all.
      expect(loads.at(-1)).toEqual({ rowsRead: 0, changed: 0 });
      await query("update items set stock = 0, updated_at = now() where id = 'i9'");
      await source.refresh();
      expect(loads.at(-1)?.rowsRead).toBe(1); // the one new write (its NOTIFY may have applied it a moment before)
      expect(catalog.isAvailable('i9')).toBe(false);
    });
  });
});
