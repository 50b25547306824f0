/**
 * `npm run bench:pipeline-quality`: offline check of pipeline settings on the demo shop, end to end through
 * the served pipeline (retrieval → rules → DLRM → MMR/caps). Users' positive events before the model's
 * training cut-off (feature space referenceTime) are the history; their later positive events are the truth.
 * Prints one JSON line per setting: recall@10, hit rate@10, catalogue coverage@10, mean category share.
 * Flags: --users N (default 400)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataset } from '../../shared/catalog/generator.ts';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline } from '../../adapters/serving.ts';
import type { PipelineSettingsOverride } from '../../core/pipeline/settings.ts';

const { values } = parseArgs({ options: { users: { type: 'string', default: '400' } } });
const root = join(import.meta.dirname, '..', '..');
const dataset = generateDataset({});
const origin = await openServedPipeline({ artifactsRoot: join(root, 'models', 'artifacts'), pollMs: 0, catalog: new InMemoryItemCatalog(dataset.items), log: () => undefined });
const space = origin.registry.fallbackSpace()!.space;
const cutoff = space.data.referenceTime;
const history = new Map<string, string[]>();
const truth = new Map<string, Set<string>>();
for (const e of dataset.interactions) {
  if (e.type === 'impression' || e.type === 'click') continue;
  if (e.ts <= cutoff) history.set(e.userId, [...(history.get(e.userId) ?? []), e.itemId]);
  else truth.set(e.userId, (truth.get(e.userId) ?? new Set()).add(e.itemId));
}
const segmentOf = new Map(dataset.users.map((u) => [u.id, u.segment]));
const users = [...truth.keys()].filter((u) => (history.get(u)?.length ?? 0) > 0).sort().slice(0, Number(values.users));

const settings: Record<string, PipelineSettingsOverride | 'cold-start'> = {
  'popular fallback (history withheld)': 'cold-start',
  'default (dlrm only, mmr 0.8, cap 0.4)': {},
  'dlrm only, no mmr/caps': { mmrLambda: 1, categoryCapShare: 1 },
  'blend 0.7 dlrm / 0.3 retrieval': { dlrmWeight: 0.7 },
  'blend 0.5': { dlrmWeight: 0.5 },
  'retrieval only': { dlrmWeight: 0 },
  'retrieval only, no mmr/caps': { dlrmWeight: 0, mmrLambda: 1, categoryCapShare: 1 },
};
for (const [name, override] of Object.entries(settings)) {
  let recall = 0;
  let hits = 0;
  const covered = new Set<string>();
  for (const userId of users) {
    const seen = history.get(userId) ?? [];
    const future = [...(truth.get(userId) ?? [])].filter((id) => !seen.includes(id));
    if (future.length === 0) continue;
    const result = override === 'cold-start'
      ? await origin.pipeline.recommend({ sessionId: userId, surface: 'home', k: 10, history: [], sessionItems: [], excludeIds: seen, now: cutoff, explorationSlots: 0 })
      : await origin.pipeline.recommend({ userId, segment: segmentOf.get(userId), surface: 'home', k: 10, history: seen, sessionItems: [], excludeIds: [], now: cutoff, explorationSlots: 0, settings: override });
    const found = result.items.filter((i) => future.includes(i.id)).length;
    recall += found / Math.min(10, future.length);
    if (found > 0) hits++;
    for (const item of result.items) covered.add(item.id);
  }
  console.log(JSON.stringify({ bench: 'origin-pipeline-quality', model: origin.registry.version, setting: name, users: users.length, 'recall@10': +(recall / users.length).toFixed(4), 'hitRate@10': +(hits / users.length).toFixed(4), 'coverage@10': +(covered.size / space.itemCount).toFixed(4) }));
}
await origin.close();
process.exit(0);
