/**
 * `npm run bench:nightly [-- --users N --big-items 1000000 --big-users N --card-sample N --skip-big]`
 * Users/hour of the nightly job on this machine, with the per-stage breakdown, printed as JSON lines:
 *  1. demo catalogue (10k items, trained model): a real run of runNightly into a fresh local KV;
 *  2. synthetic 1M-item catalogue (random-weight models of the real architectures, scripts/bench/
 *     synthetic-artifacts.ts): the same job for a bounded number of users; item cards are written for a
 *     sample and their cost extrapolated to the whole catalogue (a fixed per-version cost, not per user).
 * users/hour = 3600 / (seconds per user for the user-dependent stages); the fixed costs are reported apart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Item } from '../../shared/catalog/types.ts';
import { activeUsersOf, demoInputs, loadModelArtifacts, type NightlyUser } from '../../batch/nightly/inputs.ts';
import { runNightly, type NightlySummary } from '../../batch/nightly/job.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { readFile } from 'node:fs/promises';
import { syntheticArtifacts } from './synthetic-artifacts.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    'big-items': { type: 'string', default: '1000000' },
    'big-users': { type: 'string', default: '2000' },
    'card-sample': { type: 'string', default: '20000' },
    batch: { type: 'string', default: '256' },
    'skip-big': { type: 'boolean', default: false },
  },
});

interface Case {
  name: string;
  versionDir: string;
  space: FeatureSpace;
  cardItems: readonly Item[];
  catalogueItems: number;
  users: readonly NightlyUser[];
  segments: readonly string[];
  allItems: readonly Item[];
}

async function measure(c: Case): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nightly-'));
  const loadStarted = performance.now();
  const { pipeline } = await openServedPipeline(fixedVersionServing(c.versionDir, c.allItems));
  const modelLoadSeconds = (performance.now() - loadStarted) / 1000;
  const kv = await openLocalKv({ persistTo: dir, namespaceId: 'bench' });
  let summary: NightlySummary;
  try {
    summary = await runNightly({
      kv,
      pipeline,
      space: c.space,
      items: c.cardItems,
      users: c.users,
      segments: c.segments,
      stateDir: join(dir, 'var'),
      batchSize: Number(values.batch),
    });
  } finally {
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  }
  // Split the measured wall time: item cards are a per-version cost; everything else scales with users.
  const cardShare = c.cardItems.length / (c.cardItems.length + summary.slates);
  const kvWrite = summary.stagesMs.kv_write ?? 0;
  const cardMs = kvWrite * cardShare;
  const perUserMs = (summary.seconds * 1000 - cardMs) / summary.users;
  const cardsExtrapolatedSeconds = (cardMs / c.cardItems.length) * c.catalogueItems / 1000;
  const perStagePerUserMs = Object.fromEntries(
    Object.entries(summary.stagesMs).map(([stage, ms]) => [stage, Math.round(((stage === 'kv_write' ? ms - cardMs : ms) / summary.users) * 1000) / 1000]),
  );
  return {
    bench: 'nightly',
    case: c.name,
    catalogueItems: c.catalogueItems,
    users: summary.users,
    slates: summary.slates,
    seconds: summary.seconds,
    modelLoadSeconds: Math.round(modelLoadSeconds * 10) / 10,
    msPerUser: Math.round(perUserMs * 1000) / 1000,
    usersPerHour: Math.round(3_600_000 / perUserMs),
    computeOnlyUsersPerHour: Math.round((3_600_000 * summary.users) / (summary.stagesMs.pipeline ?? 1)),
    itemCards: { written: c.cardItems.length, seconds: Math.round(cardMs) / 1000, extrapolatedSecondsForCatalogue: Math.round(cardsExtrapolatedSeconds) },
    perUserMsByStage: perStagePerUserMs,
    stagesMs: summary.stagesMs,
    bytesPerSlate: summary.bytesPerSlate,
    kv: 'local (Miniflare/workerd SQLite)',
  };
}

const demo = demoInputs({}, Number(values.users));
const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
console.log(
  JSON.stringify(
    await measure({ name: 'demo-10k-items', versionDir: artifacts.dir, space: artifacts.space, cardItems: demo.items, catalogueItems: demo.items.length, users: demo.users, segments: demo.dataset.segments, allItems: demo.items }),
  ),
);

if (!values['skip-big']) {
  const bigItems = Number(values['big-items']);
  const synthetic = await syntheticArtifacts(root, bigItems, Number(values['big-users']));
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(synthetic.dir, 'feature_space.json'), 'utf8'))));
  const users = activeUsersOf(synthetic.dataset);
  console.log(
    JSON.stringify({
      ...(await measure({
        name: `synthetic-${bigItems}-items`,
        versionDir: synthetic.dir,
        space,
        cardItems: synthetic.dataset.items.slice(0, Number(values['card-sample'])),
        catalogueItems: bigItems,
        users,
        segments: synthetic.dataset.segments,
        allItems: synthetic.dataset.items,
      })),
      note: 'random-weight models of the real architectures; ANN graph built/cached on first use (modelLoadSeconds)',
    }),
  );
}
process.exit();
