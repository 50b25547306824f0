/**
 * The erasure marker over Postgres (adapters/postgres/erasure-marker.ts): it names exactly the erased users
 * among those asked, sees an erasure made after it was opened (it is read at write time, never cached), and
 * withoutErased keeps anonymous items and drops the erased users' ones.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withoutErased } from '../../core/erasure/marker.ts';
import { openDatabase, type DatabaseHandle } from '../../adapters/postgres/database.ts';
import { openErasureMarker } from '../../adapters/postgres/erasure-marker.ts';
import { eraseUserRows } from '../../adapters/postgres/repository.ts';
import { createTestDatabase } from './support.ts';

let database: { url: string; drop: () => Promise<void> };
let handle: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ databaseUrl: database.url });
});
afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

it('answers the erased subset, including erasures made after it was opened', async () => {
  const marker = await openErasureMarker(database.url);
  try {
    expect(await marker.erased(['a1', 'a2'])).toEqual(new Set());
    await eraseUserRows(await handle.get(), 'a2');
    expect(await marker.erased(['a1', 'a2', 'a3'])).toEqual(new Set(['a2']));
    const many = Array.from({ length: 12_000 }, (_, i) => `m${i}`);
    await eraseUserRows(await handle.get(), 'm11999');
    expect(await marker.erased(many)).toEqual(new Set(['m11999']));
    const rows = [{ user: 'a1' }, { user: 'a2' }, { user: undefined }, { user: 'a2' }];
    expect(await withoutErased(marker, rows, (r) => r.user)).toEqual([{ user: 'a1' }, { user: undefined }]);
  } finally {
    await marker.close();
  }
});
