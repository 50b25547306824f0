/**
 * Session reranking on data without session ids: the newest SESSION_ITEMS items of each evaluation user's
 * history act as the current session (sent as the request's session items, as the widget does), the served
 * pipeline answers a slate of SLATE, and the session reranker (the edge's ONNX model) re-orders it. Reports
 * HR@K / NDCG@K of the held-out items before and after the rerank, over users with enough history.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Item } from '../../shared/catalog/types.ts';
import { ModelManifestSchema } from '../../shared/contracts/manifest.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import type { EvalUser } from '../prepare/prepare.ts';
import { scoreList } from './metrics.ts';
import { rerankSession } from './systems.ts';

const SESSION_ITEMS = 3;
const SLATE = 50;

export interface SessionResult {
  line: string;
  metrics: Record<string, number>;
}

export async function sessionProtocol(modelDir: string, items: readonly Item[], users: readonly EvalUser[], k: number, now: number): Promise<SessionResult> {
  const manifest = ModelManifestSchema.parse(JSON.parse(await readFile(join(modelDir, 'manifest.json'), 'utf8')));
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(modelDir, 'feature_space.json'), 'utf8'))));
  const reranker = await ort.InferenceSession.create(join(modelDir, manifest.files.sessionReranker), { intraOpNumThreads: 1 });
  const served = await openServedPipeline({ ...fixedVersionServing(modelDir, items), annCacheDir: null, log: () => undefined });
  const tasks = users.filter((u) => u.history.length > SESSION_ITEMS + 1);
  const sums = { hrBefore: 0, hrAfter: 0, ndcgBefore: 0, ndcgAfter: 0 };
  try {
    for (let start = 0; start < tasks.length; start += 64) {
      const chunk = tasks.slice(start, start + 64);
      const slates = await served.pipeline.recommendBatch(chunk.map((u) => ({
        segment: u.segment, surface: 'evaluation', k: SLATE, history: u.history.slice(0, -SESSION_ITEMS), sessionItems: u.history.slice(-SESSION_ITEMS), excludeIds: [], now, explorationSlots: 0,
      })));
      for (let i = 0; i < chunk.length; i++) {
        const u = chunk[i]!;
        const slate = slates[i]!.items.map((item) => space.itemIndex(item.id));
        const after = await rerankSession(space, { reranker }, { ...u, session: u.history.slice(-SESSION_ITEMS) }, slate);
        const truth = new Set(u.truth);
        const b = scoreList(slate, truth, k);
        const a = scoreList(after, truth, k);
        sums.hrBefore += b.hit;
        sums.hrAfter += a.hit;
        sums.ndcgBefore += b.ndcg;
        sums.ndcgAfter += a.ndcg;
      }
    }
  } finally {
    await served.close();
    await reranker.release();
  }
  const n = Math.max(1, tasks.length);
  const metrics = { tasks: tasks.length, [`hr@${k}.served`]: sums.hrBefore / n, [`hr@${k}.reranked`]: sums.hrAfter / n, [`ndcg@${k}.served`]: sums.ndcgBefore / n, [`ndcg@${k}.reranked`]: sums.ndcgAfter / n };
  const line = `Session protocol (newest ${SESSION_ITEMS} history items sent as the session; ${tasks.length} users; slate of ${SLATE} from the served pipeline): ` +
    `HR@${k} ${(sums.hrBefore / n).toFixed(4)} → ${(sums.hrAfter / n).toFixed(4)}, NDCG@${k} ${(sums.ndcgBefore / n).toFixed(4)} → ${(sums.ndcgAfter / n).toFixed(4)} after the session reranker.`;
  return { line, metrics };
}
