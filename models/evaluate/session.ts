/**
 * Session reranking on data without session ids: the newest SESSION_ITEMS items of each evaluation user's
 * history act as the current session (sent as the request's session items, as the widget does), and the served
 * pipeline answers with its session rerank off and on (the origin's stage, the edge's model). The gate is decided
 * on half of the users (even positions): on only if HR@K rises and NDCG@K falls by at most 5 %; the other half
 * reports the effect. The decision is written into the manifest (sessionRerank), which the origin obeys.
 */
import type { Item } from '../../shared/catalog/types.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { EvalUser } from '../prepare/prepare.ts';
import { scoreList } from './metrics.ts';

const SESSION_ITEMS = 3;

export interface SessionResult {
  line: string;
  gate: 'on' | 'off';
  metrics: Record<string, number>;
}

interface Sums { n: number; hrOff: number; hrOn: number; ndcgOff: number; ndcgOn: number }

export async function sessionProtocol(modelDir: string, items: readonly Item[], users: readonly EvalUser[], k: number, now: number): Promise<SessionResult> {
  const served = await openServedPipeline({ ...fixedVersionServing(modelDir, items), annCacheDir: null, log: () => undefined });
  const tasks = users.filter((u) => u.history.length > SESSION_ITEMS + 1);
  const halves: [Sums, Sums] = [{ n: 0, hrOff: 0, hrOn: 0, ndcgOff: 0, ndcgOn: 0 }, { n: 0, hrOff: 0, hrOn: 0, ndcgOff: 0, ndcgOn: 0 }];
  let space: FeatureSpace | null = null;
  try {
    const lease = served.registry.acquire();
    space = lease?.model.space ?? null;
    lease?.release();
    if (!space) throw new Error(`model ${modelDir} did not load`);
    for (let start = 0; start < tasks.length; start += 64) {
      const chunk = tasks.slice(start, start + 64);
      const ask = (sessionRerank: boolean) => served.pipeline.recommendBatch(chunk.map((u) => ({
        segment: u.segment, surface: 'evaluation', k, history: u.history.slice(0, -SESSION_ITEMS), sessionItems: u.history.slice(-SESSION_ITEMS),
        excludeIds: [], now, explorationSlots: 0, settings: { sessionRerank },
      })));
      const [off, on] = [await ask(false), await ask(true)];
      chunk.forEach((u, i) => {
        const truth = new Set(u.truth);
        const a = scoreList(off[i]!.items.map((item) => space!.itemIndex(item.id)), truth, k);
        const b = scoreList(on[i]!.items.map((item) => space!.itemIndex(item.id)), truth, k);
        const h = halves[(start + i) % 2]!;
        h.n++;
        h.hrOff += a.hit;
        h.hrOn += b.hit;
        h.ndcgOff += a.ndcg;
        h.ndcgOn += b.ndcg;
      });
    }
  } finally {
    await served.close();
  }
  const [decide, report] = halves;
  const gate = decide.n > 0 && decide.hrOn > decide.hrOff && decide.ndcgOn >= 0.95 * decide.ndcgOff ? 'on' : 'off';
  const n = Math.max(1, report.n);
  const metrics = { tasks: report.n, [`hr@${k}.off`]: report.hrOff / n, [`hr@${k}.on`]: report.hrOn / n, [`ndcg@${k}.off`]: report.ndcgOff / n, [`ndcg@${k}.on`]: report.ndcgOn / n };
  const line = `Session protocol (newest ${SESSION_ITEMS} history items sent as the request's session items; gate decided on ${decide.n} users, reported on ${report.n} others): ` +
    `served HR@${k} ${(report.hrOff / n).toFixed(4)} → ${(report.hrOn / n).toFixed(4)}, NDCG@${k} ${(report.ndcgOff / n).toFixed(4)} → ${(report.ndcgOn / n).toFixed(4)} with the session reranker; gate: ${gate}.`;
  return { line, gate, metrics };
}
