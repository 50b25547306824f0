/**
 * `npm run catalog:changes`: price/stock updates published for the edge between nightly runs, through the real
 * CLI into a real local KV (the persistence wrangler dev reads). Updates merge into the pending changes, the
 * changes the live version already contains are dropped, and a file with one bad line publishes nothing.
 * (That the edge applies them: test/edge/edge.test.ts.)
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemChangesSchema } from '../../shared/contracts/item-changes.ts';
import { ITEM_CHANGES_KEY, SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { spawnScript, tempDir } from './helpers.ts';

const NS = 'edge-reco-slates';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('item-changes');
  const kv = await openLocalKv({ persistTo: dir, namespaceId: NS });
  const versionAt = Date.now() - 60_000;
  await kv.putMany([
    { key: SLATE_POINTER_KEY, value: JSON.stringify({ version: 'vlive', modelVersion: 'm1', createdAt: versionAt }) },
    // i1's change predates the live version by 3 hours: the version has it. i2's is recent: still pending.
    { key: ITEM_CHANGES_KEY, value: JSON.stringify({ f: 1, items: { i1: { st: 0, at: versionAt - 3 * 3_600_000 }, i2: { pr: 5, at: versionAt + 1 } } }) },
  ]);
  await kv.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pending(): Promise<Record<string, { pr?: number; st?: number }>> {
  const kv = await openLocalKv({ persistTo: dir, namespaceId: NS });
  try {
    return ItemChangesSchema.parse(JSON.parse((await kv.get(ITEM_CHANGES_KEY)) ?? 'null')).items;
  } finally {
    await kv.close();
  }
}

describe('npm run catalog:changes', () => {
  it('merges updates into the pending changes and drops what the live version contains', async () => {
    const file = join(dir, 'updates.ndjson');
    await writeFile(file, '{"id":"i2","stock":0}\n{"id":"i3","price":19.5}\n\n');
    const run = await spawnScript('scripts/catalog-changes.ts', ['--file', file, '--persist-to', dir]).done;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ event: 'catalog-changes', published: 2, pending: 2, pruned: 1 });
    const items = await pending();
    expect(Object.keys(items).sort()).toEqual(['i2', 'i3']);
    expect(items.i2).toMatchObject({ pr: 5, st: 0 }); // both fields kept: the newest value of each
    expect(items.i3).toMatchObject({ pr: 19.5 });
  });

  it('publishes nothing when a line is invalid, naming each bad line', async () => {
    const file = join(dir, 'bad.ndjson');
    await writeFile(file, '{"id":"i4","stock":1}\n{"id":"i5"}\nnot json\n{"id":"i6","price":-1}\n');
    const run = await spawnScript('scripts/catalog-changes.ts', ['--file', file, '--persist-to', dir]).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/line 2: .*price or stock/);
    expect(run.stderr).toMatch(/line 3: not valid JSON/);
    expect(run.stderr).toMatch(/line 4: price/);
    expect(Object.keys(await pending()).sort()).toEqual(['i2', 'i3']);
  });
});
