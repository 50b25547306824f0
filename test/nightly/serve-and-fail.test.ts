/**
 * End to end over real local KV persistence and the real edge worker in workerd (`wrangler dev --persist-to`
 * with edge/wrangler.jsonc; no origin behind it, so every answer must come from the nightly's slates):
 *  1. the nightly CLI on the built-in catalogue writes a version that the edge serves;
 *  2. a run that fails halfway (KV write fault injected after some batches) leaves that version live;
 *  3. resuming the failed version finishes it and the running worker switches to it at the pointer flip.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../../adapters/postgres/database.ts';
import { eraseUserRows } from '../../adapters/postgres/repository.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSlateCards, SlateSchema, ItemCardSchema, SlatePointerSchema, type Slate } from '../../shared/contracts/slate.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { demoInputs, loadModelArtifacts } from '../../batch/nightly/inputs.ts';
import { runNightly } from '../../batch/nightly/job.ts';
import { localNamespaceId } from '../../adapters/kv/open.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { root, spawnScript, summaryOf, tempDir } from './helpers.ts';
import { buildEdge, fetchRecommendations, startEdge, type RunningEdge } from '../edge/support.ts';
import { createTestDatabase } from '../origin/support.ts';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { modelFileKey } from '../../shared/kv/keys.ts';

// The namespace id the edge's wrangler config binds SLATES to: the nightly CLI finds it the same way.
const NS = localNamespaceId(join(root, 'edge', 'wrangler.jsonc'));
let dir: string;
let edge: RunningEdge;
/** This file's own Postgres database (dropped after the run). */
let testDatabase: { url: string; drop: () => Promise<void> } | undefined;

/** The edge's answer for a user (k items), validated by the shared response contract. */
const recommend = async (query: string) => RecommendResponseSchema.parse(await (await fetchRecommendations(edge.url, query)).json());

/** A real local KV whose putMany fails after `okCalls` calls: the shape of a crash or a dead network mid-run. */
function failingAfter(kv: KvWriter, okCalls: number): KvWriter {
  let calls = 0;
  return {
    ...kv,
    list: (prefix) => kv.list(prefix),
    putMany: async (entries) => {
      if (++calls > okCalls) throw new Error('injected KV write failure');
      await kv.putMany(entries);
    },
  };
}

beforeAll(async () => {
  dir = await tempDir('nightly-serve');
  buildEdge();
});
afterAll(async () => {
  await edge?.stop();
  await testDatabase?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Reads keys straight from the local KV (the same persistence the edge reads) to compare with its answers. */
async function readKv<T>(read: (kv: KvWriter) => Promise<T>): Promise<T> {
  const kv = await openLocalKv({ persistTo: dir, namespaceId: NS });
  try {
    return await read(kv);
  } finally {
    await kv.close();
  }
}
const slateIn = (kv: KvWriter, version: string, userId: string): Promise<Slate> =>
  kv.get(`slate:${version}:user:${userId}`).then((text) => SlateSchema.parse(JSON.parse(text ?? 'null')));

describe('nightly → KV → edge worker in workerd', () => {
  it('serves the slates a run on the built-in catalogue wrote', async () => {
    // A user erased through the origin (its Postgres, own database for this file) must get no slate.
    const { users } = demoInputs({}, 300);
    const user = users[17];
    const erasedUser = users[5];
    if (!user || !erasedUser) throw new Error('no demo user');
    testDatabase = await createTestDatabase();
    const databaseUrl = testDatabase.url;
    const database = await openDatabase({ databaseUrl });
    await eraseUserRows(await database.get(), erasedUser.id);
    await database.close();

    const run = await spawnScript('scripts/nightly.ts', ['--persist-to', dir, '--state-dir', join(dir, 'var'), '--max-users', '300', '--no-progress', '--database-url', databaseUrl]).done;
    expect(run.code, run.stderr).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.users).toBe(299);
    expect(summary.slates).toBe(299 + 8 + 1);
    expect((summary.bytesPerSlate as { max: number }).max).toBeGreaterThan(100);
    expect(await readKv((kv) => kv.get(`slate:${summary.version}:user:${erasedUser.id}`))).toBeNull();
    const { space } = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    const stored = await readKv(async (kv) => {
      const slate = await slateIn(kv, String(summary.version), user.id);
      const card = ItemCardSchema.parse(JSON.parse((await kv.get(`item:${summary.version}:${slate.i[0]}`)) ?? 'null'));
      const reranker = await kv.get(modelFileKey(String(summary.modelVersion), 'session_reranker.onnx'));
      return { slate, card, reranker };
    });
    expect(stored.slate.sv).toBe(summary.version);
    expect(stored.slate.i).toHaveLength(100);
    expect(new Set(stored.slate.i).size).toBe(100);
    for (const bought of user.purchased) expect(stored.slate.i).not.toContain(bought);
    stored.slate.i.forEach((id, k) => {
      const index = space.itemIndex(id);
      expect([stored.slate.c[k], stored.slate.b[k], stored.slate.p[k]]).toEqual([space.category(index), space.brand(index), space.priceBucket(index)]);
    });
    expect(stored.card.id).toBe(stored.slate.i[0]);
    // The slate carries its items' cards (the edge reads one key per request), equal to the item's own card.
    expect(decodeSlateCards(stored.slate)?.get(stored.card.id)).toEqual(stored.card);
    expect(stored.slate.d?.t).toHaveLength(100);
    expect(stored.reranker?.length ?? 0).toBeGreaterThan(1000);

    // No origin listens on ORIGIN_URL: a personal answer can only come from the nightly's slate.
    edge = await startEdge(dir, { ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_TIMEOUT_MS: '100', ISOLATE_CACHE_SECONDS: '2' });
    const answer = await recommend(`user=${user.id}&k=20`);
    expect(answer.path).toBe('kv-slate');
    expect(answer.slateVersion).toBe(summary.version);
    expect(answer.items).toHaveLength(20);
    for (const item of answer.items) expect(stored.slate.i).toContain(item.id);
    // With session items the edge reranks with the session model of this model version.
    const session = await recommend(`user=${user.id}&k=10&recent=${stored.slate.i[50]},${stored.slate.i[60]}`);
    expect(session.path).toBe('kv-slate');
    expect(session.degraded).not.toContain('rerank-failed');
    const segment = await recommend(`session=s-anon&segment=gamers&k=5`);
    expect(segment.path).toBe('kv-segment-slate');
    expect(segment.slateVersion).toBe(summary.version);
  }, 180_000);

  it('leaves the previous version live when a run fails, and flips when the resumed run finishes', async () => {
    const before = await recommend('user=u1&k=5');
    expect(before.path).toBe('kv-slate');
    const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    const inputs = demoInputs({}, 300);
    const { pipeline } = await openServedPipeline(fixedVersionServing(artifacts.dir, inputs.items));
    const kv = await openLocalKv({ persistTo: dir, namespaceId: NS });
    const at = Date.now() + 2000; // a distinct, later version id than the first run's
    const options = { pipeline, space: artifacts.space, sessionVectors: artifacts.sessionVectors, items: inputs.items, users: inputs.users, segments: inputs.dataset.segments, stateDir: join(dir, 'var'), shards: 6, batchSize: 50, at };
    try {
      // Item cards (5 calls) + segments (1) + a few user batches succeed, then writes fail.
      await expect(runNightly({ ...options, kv: failingAfter(kv, 9) })).rejects.toThrow('injected KV write failure');
      const during = await recommend('user=u1&k=5');
      expect(during.slateVersion).toBe(before.slateVersion);
      expect(during.path).toBe('kv-slate');

      const resumed = await runNightly({ ...options, kv, resume: true });
      expect(resumed.resumed).toBe(true);
      expect(resumed.version).not.toBe(before.slateVersion);
      expect(resumed.usersComputed).toBeLessThan(300);
      // The running edge switches at the flip (allow its short KV read cache to expire).
      const deadline = Date.now() + 90_000;
      let after = await recommend('user=u1&k=5');
      while (after.slateVersion !== resumed.version && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
        after = await recommend('user=u1&k=5');
      }
      expect(after.slateVersion).toBe(resumed.version);
      // The grace period keeps the previous version for rollback.
      expect(await kv.get(`slates:meta:${before.slateVersion}`)).not.toBeNull();
    } finally {
      await kv.close();
    }
  }, 180_000);

  it('exports the live version as NDJSON and CSV, equal to what is in KV, filtered by segment', async () => {
    const live = await readKv(async (kv) => SlatePointerSchema.parse(JSON.parse((await kv.get('slates:current')) ?? 'null')));
    const ndjson = await spawnScript('scripts/export.ts', ['--persist-to', dir]).done;
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const rows = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line) as { version: string; subject: string; id: string; segment: string | null; items: { id: string }[] });
    // The live version is the in-process resumed run above (300 users, no erasure list given).
    expect(rows.filter((r) => r.subject === 'user')).toHaveLength(300);
    expect(rows.filter((r) => r.subject === 'segment')).toHaveLength(8);
    expect(rows.filter((r) => r.subject === 'popular')).toHaveLength(1);
    expect(new Set(rows.map((r) => r.version))).toEqual(new Set([live.version]));
    const u1 = rows.find((r) => r.subject === 'user' && r.id === 'u1');
    const u1Slate = await readKv((kv) => slateIn(kv, live.version, 'u1'));
    expect(u1?.items.map((i) => i.id)).toEqual(u1Slate.i);

    const { users } = demoInputs({}, 300);
    const gamers = users.filter((u) => u.segment === 'gamers').map((u) => u.id).sort();
    const csv = await spawnScript('scripts/export.ts', ['--persist-to', dir, '--segment', 'gamers', '--format', 'csv', '--limit', '3']).done;
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('version,model_version,subject,id,segment,rank,item_id,score,reason');
    const cells = lines.slice(1).map((line) => line.split(','));
    expect(new Set(cells.map((c) => c[4]))).toEqual(new Set(['gamers']));
    expect([...new Set(cells.filter((c) => c[2] === 'user').map((c) => c[3]))].sort()).toEqual(gamers);
    expect(cells.length).toBe(3 * (gamers.length + 1));
  }, 60_000);
});
