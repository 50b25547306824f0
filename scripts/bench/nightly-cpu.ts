/**
 * `node scripts/bench/nightly-cpu.ts [ITEMS=20000] [CATALOGUE_USERS=2000] [USERS=800]`
 * CPU milliseconds per user of the nightly's slate computation alone (computeBatch: pipeline + encode, batches
 * of 256, one thread, no KV), on the synthetic catalogue of scripts/bench/synthetic-artifacts.ts, plus a digest
 * of every slate value. For A/B comparisons of per-user CPU on a shared machine, where wall times move 2–3× with
 * other load: run it on two checkouts (env R=<other checkout root> runs that checkout's code on this one's
 * var/bench artifacts); equal digests = identical slates. processCpuMsPerUser counts every thread of the process
 * (ONNX runs on its own threads), threadCpuMsPerUser the main thread only.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const root = process.env.R ?? join(import.meta.dirname, '..', '..');
const own = join(import.meta.dirname, '..', '..');
const { activeUsersOf } = (await import(join(root, 'batch/nightly/inputs.ts'))) as typeof import('../../batch/nightly/inputs.ts');
const { userRequests, slateShape } = (await import(join(root, 'batch/nightly/steps.ts'))) as typeof import('../../batch/nightly/steps.ts');
const { computeBatch } = (await import(join(root, 'batch/nightly/compute.ts'))) as typeof import('../../batch/nightly/compute.ts');
const { fixedVersionServing, openServedPipeline } = (await import(join(root, 'adapters/serving.ts'))) as typeof import('../../adapters/serving.ts');
const { readFeatureSpace, readManifest, readSessionVectors } = (await import(join(root, 'core/registry/artifacts.ts'))) as typeof import('../../core/registry/artifacts.ts');
const { syntheticArtifacts } = await import('./synthetic-artifacts.ts');

const items = Number(process.argv[2] ?? 20000);
const catalogueUsers = Number(process.argv[3] ?? 2000);
const limit = Number(process.argv[4] ?? 800);
const syn = await syntheticArtifacts(own, items, catalogueUsers);
const users = activeUsersOf(syn.dataset).slice(0, limit);
const served = await openServedPipeline({ ...fixedVersionServing(syn.dir, syn.dataset.items), log: () => undefined });
const manifest = await readManifest(syn.dir);
const space = await readFeatureSpace(syn.dir, manifest);
const ctx = { space, sessionVectors: await readSessionVectors(syn.dir, manifest), version: { slateVersion: 'v20260101T000000Z', modelVersion: String(syn.dir.split('/').pop()), at: Date.UTC(2026, 0, 1) }, slateSize: 100, catalog: new Map(syn.dataset.items.map((i) => [i.id, i])) };
const { subjects, requests } = userRequests(users, slateShape(100, Date.UTC(2026, 0, 1)));
const hash = createHash('sha256');
const stageMs: Record<string, number> = {};
await computeBatch(served.pipeline, ctx, subjects.slice(0, 256), requests.slice(0, 256)); // warm-up
const thread0 = process.threadCpuUsage();
const process0 = process.cpuUsage();
for (let i = 0; i < users.length; i += 256) {
  const out = await computeBatch(served.pipeline, ctx, subjects.slice(i, i + 256), requests.slice(i, i + 256));
  for (const e of out.entries) hash.update(e.value);
  for (const [k, v] of Object.entries(out.stageMs) as [string, number][]) stageMs[k] = (stageMs[k] ?? 0) + v;
}
const thread = process.threadCpuUsage(thread0);
const all = process.cpuUsage(process0);
const perUser = (us: { user: number; system: number }): number => Math.round(((us.user + us.system) / 1000 / users.length) * 1000) / 1000;
console.log(
  JSON.stringify({
    bench: 'nightly-cpu',
    code: root,
    catalogueItems: items,
    users: users.length,
    processCpuMsPerUser: perUser(all),
    threadCpuMsPerUser: perUser(thread),
    slatesSha256: hash.digest('hex').slice(0, 12),
    wallMsPerUserByStage: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, Math.round((v / users.length) * 1000) / 1000])),
  }),
);
process.exit();
