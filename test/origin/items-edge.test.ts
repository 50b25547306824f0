/**
 * A retirement reaches the edge before the next nightly when the origin has the slate KV (SLATES_KV=local, the
 * Miniflare persistence the edge reads): DELETE /v1/items/:id and PUT with stock 0 publish stock 0 into
 * catalog:changes, the value the edge applies on top of the cards its slates carry (docs/edge.md).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ItemChangesSchema } from '../../shared/contracts/item-changes.ts';
import { ITEM_CHANGES_KEY } from '../../shared/kv/keys.ts';
import { NAMESPACE_ID, openKv } from '../edge/support.ts';
import { tempDir } from '../nightly/helpers.ts';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

let database: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin | undefined;
let persistTo = '';
const prefix = `${uniqueId('itemsedge')}:`;
const auth = { 'x-api-key': API_KEY, 'content-type': 'application/json' };

beforeAll(async () => {
  persistTo = await tempDir('items-edge-kv');
  database = await createTestDatabase();
  process.env.KV_PERSIST_DIR = persistTo;
  process.env.KV_NAMESPACE_ID = NAMESPACE_ID;
  origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, SLATES_KV: 'local' });
});
afterAll(async () => {
  await origin?.close();
  delete process.env.KV_PERSIST_DIR;
  delete process.env.KV_NAMESPACE_ID;
  await database?.drop();
  await deleteRedisPrefix(prefix);
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

it('publishes retirements as stock 0 in catalog:changes', async () => {
  const retired = await fetch(`${origin?.url}/v1/items/i11`, { method: 'DELETE', headers: auth });
  expect(await retired.json()).toMatchObject({ id: 'i11', retired: true, edge: 'published' });
  const put = await fetch(`${origin?.url}/v1/items`, { method: 'PUT', headers: auth, body: JSON.stringify({ items: [{ id: 'i12', title: 'Gone', stock: 0 }, { id: 'i13', title: 'Still here', stock: 4 }] }) });
  expect(await put.json()).toMatchObject({ stored: 2, edge: 'published' });
  await origin?.close(); // the origin's KV handle is closed before this test opens the same persistence
  origin = undefined;
  const kv = await openKv(persistTo);
  try {
    const changes = ItemChangesSchema.parse(JSON.parse((await kv.get(ITEM_CHANGES_KEY)) ?? 'null'));
    expect(Object.keys(changes.items).sort()).toEqual(['i11', 'i12']);
    expect(changes.items.i11?.st).toBe(0);
    expect(changes.items.i12?.st).toBe(0);
  } finally {
    await kv.close();
  }
});
