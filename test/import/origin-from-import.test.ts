/**
 * The embedded path end to end: `npm run import` into a PGlite folder (no Redis), then an origin started on that
 * folder without REDIS_URL fills its in-process feature store from the imported events — histories in time order
 * with the origin's rule, purchases — and serves the imported catalogue (titles; a retired row and a bought item never recommended).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateShop } from '../../shared/catalog/generator.ts';
import { spawnScript, tempDir } from '../nightly/helpers.ts';
import { startOrigin, type RunningOrigin } from '../origin/support.ts';

// The CLI runs as a shop would without a feature store: REDIS_URL unset even where the suite has one (CI).
const NO_REDIS = { REDIS_URL: '' };

let dir = '';
let origin: RunningOrigin | undefined;
const T0 = Date.UTC(2026, 1, 1);

beforeAll(async () => {
  dir = await tempDir('origin-import');
});
afterAll(async () => {
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('an origin on the imported PGlite folder serves the imported histories and catalogue', async () => {
  const pglite = join(dir, 'pglite');
  // The demo model's items (its feature space), under imported titles; i3 retired by the import.
  const items = generateShop().items.map((item) => ({ id: item.id, title: `Imported ${item.title}`, category: item.category, price: item.price, stock: item.id === 'i3' ? 0 : 5, createdAt: item.createdAt }));
  await writeFile(join(dir, 'items.ndjson'), items.map((item) => JSON.stringify(item)).join('\n') + '\n');
  await writeFile(join(dir, 'events.csv'), [
    'userId,itemId,type,ts',
    `shopper-1,i2,view,${T0 + 60_000}`,
    `shopper-1,i1,view,${T0}`,
    `shopper-1,i2,purchase,${T0 + 120_000}`,
    `shopper-1,i3,view,${T0 + 180_000}`,
  ].join('\n') + '\n');
  const run = await spawnScript('scripts/import.ts', ['--items', join(dir, 'items.ndjson'), '--events', join(dir, 'events.csv'), '--pglite-dir', pglite, '--no-progress'], NO_REDIS).done;
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ items: { stored: items.length }, events: { inserted: 4 }, featureStore: 'skipped' });

  origin = await startOrigin({ PGLITE_DIR: pglite, DATABASE_URL: undefined, REDIS_URL: undefined, SEED_CATALOG: 'false', SEED_HISTORIES: 'false' });
  const store = origin.service.featureStore;
  expect(await store.userHistory('shopper-1')).toEqual(['i1', 'i2', 'i3']);
  expect(await store.purchased('shopper-1')).toEqual(['i2']);
  const response = await fetch(`${origin.url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': origin.config.API_KEYS[0] ?? '' }, body: JSON.stringify({ userId: 'shopper-1', k: 5 }) });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { items: { id: string; title?: string; reason: string }[] };
  expect(body.items).toHaveLength(5);
  for (const item of body.items) {
    expect(item.title).toMatch(/^Imported /);
    expect(['i2', 'i3']).not.toContain(item.id); // bought; retired
  }
});
