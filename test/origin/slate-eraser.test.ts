/** Erasing a user's slates from a real local KV (Miniflare, as the nightly writes it): every stored version, nobody else's. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { SLATE_POINTER_KEY, slateKey, versionMetaKey, versionRunKey } from '../../shared/kv/keys.ts';
import { listAll, type KvWriter } from '../../shared/kv/writer.ts';
import { slateEraser } from '../../core/erasure/slate-eraser.ts';

let dir: string;
let kv: KvWriter;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'origin-kv-'));
  kv = await openLocalKv({ persistTo: dir, namespaceId: 'SLATES' });
});
afterAll(async () => {
  await kv?.close();
  await rm(dir, { recursive: true, force: true });
});

it("deletes the user's slate in the current, older and unfinished versions only", async () => {
  const slate = JSON.stringify({ items: [] });
  await kv.putMany([
    { key: versionMetaKey('v1'), value: '{}' },
    { key: versionMetaKey('v2'), value: '{}' },
    { key: versionRunKey('v3'), value: '{}' },
    { key: SLATE_POINTER_KEY, value: JSON.stringify({ version: 'v2', modelVersion: 'm', createdAt: 1 }) },
    ...['v1', 'v2', 'v3'].flatMap((v) => ['u1', 'u2'].map((id) => ({ key: slateKey(v, { kind: 'user', id }), value: slate }))),
    { key: slateKey('v2', { kind: 'popular' }), value: slate },
  ]);
  await slateEraser(kv)('u1');
  const left = await listAll(kv, 'slate:');
  expect(left.filter((k) => k.endsWith(':user:u1'))).toEqual([]);
  expect(left.filter((k) => k.endsWith(':user:u2'))).toHaveLength(3);
  expect(left).toContain(slateKey('v2', { kind: 'popular' }));
});
