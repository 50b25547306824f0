/**
 * Origin killed while the edge serves: the widget keeps getting 200s. Visitors with a KV slate are unaffected;
 * visitors who needed the origin get the popular slate, flagged. Real origin process, real edge in workerd.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecommendResponse } from '../../shared/contracts/recommend.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { buildEdge, cardOf, fetchRecommendations, openKv, slateOf, startEdge, writeVersion, type RunningEdge } from '../edge/support.ts';
import { tempDir } from '../nightly/helpers.ts';
import { createTestDatabase, deleteRedisPrefix, REDIS_URL } from '../origin/support.ts';
import { spawnOrigin, stop } from './support.ts';
import type { ChildProcess } from 'node:child_process';

let db: { url: string; drop: () => Promise<void> };
let origin: { url: string; child: ChildProcess };
let edge: RunningEdge;
let kv: KvWriter;
let persistTo = '';
const prefix = `killed:${Date.now()}:`;

beforeAll(async () => {
  buildEdge();
  db = await createTestDatabase();
  origin = await spawnOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
  persistTo = await tempDir('killed-kv');
  kv = await openKv(persistTo);
  const now = Date.now();
  await writeVersion(kv, 'vk', [
    [{ kind: 'user', id: 'u1' }, slateOf('vk', ['i1', 'i2', 'i3'], now)],
    [{ kind: 'popular' }, slateOf('vk', ['i7', 'i8', 'i9'], now)],
  ], ['i1', 'i2', 'i3', 'i7', 'i8', 'i9'].map((id) => [id, cardOf(id)]));
  edge = await startEdge(persistTo, { ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '2000' });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await stop(origin?.child);
  await kv?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe('origin killed while the edge serves', () => {
  it('answers every request with 200: KV slates as before, origin paths degrade to the flagged popular slate', async () => {
    const answers: { phase: 'before' | 'after'; status: number; body: RecommendResponse }[] = [];
    let phase: 'before' | 'after' = 'before';
    const deadline = Date.now() + 8000;
    const killer = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await stop(origin.child);
      phase = 'after';
    })();
    let n = 0;
    while (Date.now() < deadline) {
      const user = n++ % 2 === 0 ? 'u1' : `anon-${n}`; // u1 has a slate; the others need the origin
      const current = phase;
      const response = await fetchRecommendations(edge.url, `user=${user}&k=3`); // signed in: anon-N need the origin
      answers.push({ phase: current, status: response.status, body: (await response.json()) as RecommendResponse });
    }
    await killer;
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const before = answers.filter((a) => a.phase === 'before' && !a.body.items.some((i) => i.id === 'i1'));
    const after = answers.filter((a) => a.phase === 'after');
    expect(before.some((a) => a.body.path === 'origin')).toBe(true);
    const afterOrigin = after.filter((a) => a.body.path !== 'kv-slate');
    expect(afterOrigin.length).toBeGreaterThan(0);
    for (const a of afterOrigin) {
      expect(a.body.path).toBe('popular-fallback');
      expect(a.body.degraded.some((d) => d === 'origin-error' || d === 'origin-timeout')).toBe(true);
      expect(a.body.items.map((i) => i.id)).toEqual(['i7', 'i8', 'i9']);
    }
    for (const a of after.filter((x) => x.body.path === 'kv-slate')) expect(a.body.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i3']);
  });
});
