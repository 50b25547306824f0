/**
 * End to end over real local KV persistence and real workerd (`wrangler dev --persist-to`):
 *  1. the nightly CLI on the built-in catalogue writes a version that a worker reading the SLATES binding serves;
 *  2. a run that fails halfway (KV write fault injected after some batches) leaves that version live;
 *  3. resuming the failed version finishes it and the running worker switches to it at the pointer flip.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlateSchema, ItemCardSchema, SlatePointerSchema } from '../../shared/contracts/slate.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { demoInputs, loadModelArtifacts } from '../../scripts/nightly/inputs.ts';
import { runNightly } from '../../scripts/nightly/job.ts';
import { localNamespaceId } from '../../scripts/nightly/kv/open.ts';
import { openLocalKv } from '../../scripts/nightly/kv/local.ts';
import { createNightlyPipeline } from '../../scripts/nightly/pipeline.ts';
import { root, spawnScript, startWranglerDev, summaryOf, tempDir } from './helpers.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'kv-reader');
const NS = localNamespaceId(join(fixture, 'wrangler.jsonc'));
let dir: string;
let worker: { url: string; stop: () => Promise<void> };

const getJson = async (url: string): Promise<Record<string, unknown>> => (await (await fetch(url)).json()) as Record<string, unknown>;

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
});
afterAll(async () => {
  await worker?.stop();
});

describe('nightly → KV → worker in workerd', () => {
  it('serves the slates a run on the built-in catalogue wrote', async () => {
    const run = await spawnScript('scripts/nightly/run.ts', ['--persist-to', dir, '--state-dir', join(dir, 'var'), '--namespace-id', NS, '--max-users', '300', '--no-progress']).done;
    expect(run.code, run.stderr).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.users).toBe(300);
    expect(summary.slates).toBe(300 + 8 + 1);
    expect((summary.bytesPerSlate as { max: number }).max).toBeGreaterThan(100);

    worker = await startWranglerDev(fixture, dir);
    const pointer = SlatePointerSchema.parse(await getJson(`${worker.url}/pointer`));
    expect(pointer.version).toBe(summary.version);
    const { users } = demoInputs({}, 300);
    const user = users[17];
    if (!user) throw new Error('no demo user');
    const served = await getJson(`${worker.url}/?user=${user.id}`);
    const slate = SlateSchema.parse(served.slate);
    expect(slate.sv).toBe(summary.version);
    expect(slate.i).toHaveLength(100);
    expect(new Set(slate.i).size).toBe(100);
    for (const bought of user.purchased) expect(slate.i).not.toContain(bought);
    // Slate features equal the model's feature space for those items.
    const { space } = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    slate.i.forEach((id, k) => expect([slate.c[k], slate.b[k], slate.p[k]]).toEqual([space.category(space.itemIndex(id)), space.brand(space.itemIndex(id)), space.priceBucket(space.itemIndex(id))]));
    const card = ItemCardSchema.parse(served.card);
    expect(card.id).toBe(slate.i[0]);
  }, 180_000);

  it('leaves the previous version live when a run fails, and flips when the resumed run finishes', async () => {
    const before = SlatePointerSchema.parse(await getJson(`${worker.url}/pointer`));
    const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    const inputs = demoInputs({}, 300);
    const pipeline = await createNightlyPipeline(artifacts.dir, inputs.items);
    const kv = await openLocalKv({ persistTo: dir, namespaceId: NS });
    const at = Date.now() + 2000; // a distinct, later version id than the first run's
    const options = { pipeline, space: artifacts.space, items: inputs.items, users: inputs.users, segments: inputs.dataset.segments, stateDir: join(dir, 'var'), shards: 6, batchSize: 50, at };
    try {
      // Item cards (5 calls) + segments (1) + a few user batches succeed, then writes fail.
      await expect(runNightly({ ...options, kv: failingAfter(kv, 9) })).rejects.toThrow('injected KV write failure');
      const during = SlatePointerSchema.parse(await getJson(`${worker.url}/pointer`));
      expect(during).toEqual(before);
      const served = await getJson(`${worker.url}/?user=u1`);
      expect(SlateSchema.parse(served.slate).sv).toBe(before.version);

      const resumed = await runNightly({ ...options, kv, resume: true });
      expect(resumed.resumed).toBe(true);
      expect(resumed.version).not.toBe(before.version);
      expect(resumed.usersComputed).toBeLessThan(300);
      const after = SlatePointerSchema.parse(await getJson(`${worker.url}/pointer`));
      expect(after.version).toBe(resumed.version);
      expect(SlateSchema.parse((await getJson(`${worker.url}/?user=u1`)).slate).sv).toBe(resumed.version);
      // The grace period keeps the previous version for rollback.
      expect(await kv.get(`slates:meta:${before.version}`)).not.toBeNull();
    } finally {
      await kv.close();
    }
  }, 180_000);

  it('exports the live version as NDJSON and CSV, equal to what is served, filtered by segment', async () => {
    const pointer = SlatePointerSchema.parse(await getJson(`${worker.url}/pointer`));
    const ndjson = await spawnScript('scripts/export/run.ts', ['--persist-to', dir, '--namespace-id', NS]).done;
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const rows = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line) as { version: string; subject: string; id: string; segment: string | null; items: { id: string }[] });
    expect(rows.filter((r) => r.subject === 'user')).toHaveLength(300);
    expect(rows.filter((r) => r.subject === 'segment')).toHaveLength(8);
    expect(rows.filter((r) => r.subject === 'popular')).toHaveLength(1);
    expect(new Set(rows.map((r) => r.version))).toEqual(new Set([pointer.version]));
    const u1 = rows.find((r) => r.subject === 'user' && r.id === 'u1');
    expect(u1?.items.map((i) => i.id)).toEqual(SlateSchema.parse((await getJson(`${worker.url}/?user=u1`)).slate).i);

    const { users } = demoInputs({}, 300);
    const gamers = users.filter((u) => u.segment === 'gamers').map((u) => u.id).sort();
    const csv = await spawnScript('scripts/export/run.ts', ['--persist-to', dir, '--namespace-id', NS, '--segment', 'gamers', '--format', 'csv', '--limit', '3']).done;
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('version,model_version,subject,id,segment,rank,item_id,score,reason');
    const cells = lines.slice(1).map((line) => line.split(','));
    expect(new Set(cells.map((c) => c[4]))).toEqual(new Set(['gamers']));
    expect([...new Set(cells.filter((c) => c[2] === 'user').map((c) => c[3]))].sort()).toEqual(gamers);
    expect(cells.length).toBe(3 * (gamers.length + 1));
  }, 60_000);
});
