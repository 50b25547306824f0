/**
 * Offline evaluation of an exported model version on the held-out window: Recall@K, NDCG@K, MAP@K, MRR@K,
 * catalogue coverage and intra-list diversity for popularity, item-kNN, two-tower, + DLRM, + session rerank.
 * Writes <reports>/<dataset>.json, .md and .html (inline SVG charts) and returns flat metrics for the manifest.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { ModelManifestSchema } from '../../shared/contracts/manifest.ts';
import { decodeEmbeddings } from '../export/embeddings.ts';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import type { EvalUser } from '../prepare/prepare.ts';
import type { TimeSplit } from '../prepare/split.ts';
import { intraListDiversity, scoreList } from './metrics.ts';
import { renderReport } from './report.ts';
import { embedUsers, ItemKnn, popularity, rankWithDlrm, rerankSession, twoTowerScores, type Models } from './systems.ts';
import { topK } from './metrics.ts';

export const K = 10;
const RETRIEVE = 200;
const SLATE = 50;
const MAX_USERS = 2000;
export const SYSTEMS = ['popularity', 'item-knn', 'two-tower', 'two-tower+dlrm', 'two-tower+dlrm+session'] as const;
type System = (typeof SYSTEMS)[number];

export interface SystemMetrics {
  recall: number;
  ndcg: number;
  map: number;
  mrr: number;
  coverage: number;
  diversity: number;
  recall100?: number;
}

async function loadModels(dir: string): Promise<{ models: Models; space: FeatureSpace }> {
  const manifest = ModelManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1 };
  // Through the manifest, so a float16/int8 version is evaluated as it will be served.
  const bytes = await readFile(join(dir, manifest.files.itemEmbeddings));
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(dir, 'feature_space.json'), 'utf8'))));
  return {
    space,
    models: {
      userTower: await ort.InferenceSession.create(join(dir, 'user_tower.onnx'), options),
      dlrm: await ort.InferenceSession.create(join(dir, 'dlrm.onnx'), options),
      reranker: await ort.InferenceSession.create(join(dir, 'session_reranker.onnx'), options),
      itemEmbeddings: decodeEmbeddings(bytes, manifest.itemEmbeddingsDtype, manifest.itemEmbeddingsScale),
      dim: manifest.embeddingDim,
    },
  };
}

export async function evaluate(
  dataset: Dataset,
  split: TimeSplit,
  evalUsers: readonly EvalUser[],
  modelDir: string,
  reportsDir: string,
  protocol: string,
): Promise<Record<string, number>> {
  const { models, space } = await loadModels(modelDir);
  const users = evalUsers.slice(0, MAX_USERS);
  const histories = new Map<string, number[]>();
  for (const e of split.train) if (e.type !== 'impression' && e.type !== 'click') histories.set(e.userId, [...(histories.get(e.userId) ?? []), space.itemIndex(e.itemId)]);
  const knn = new ItemKnn(space, [...histories.values()]);
  const lists: Record<System, number[][]> = { popularity: [], 'item-knn': [], 'two-tower': [], 'two-tower+dlrm': [], 'two-tower+dlrm+session': [] };
  const recall100: Partial<Record<System, number[]>> = { popularity: [], 'item-knn': [], 'two-tower': [] };
  const now = split.train.at(-1)?.ts ?? 0;
  // Next-item-in-session task (what the edge reranker is for): hits@K of the ranked slate before/after rerank.
  const sessionHits = { ranked: 0, reranked: 0, tasks: 0 };
  const batch = 256;
  for (let start = 0; start < users.length; start += batch) {
    const chunk = users.slice(start, start + batch);
    const embeddings = await embedUsers(space, models, chunk);
    for (let u = 0; u < chunk.length; u++) {
      const user = chunk[u]!;
      const relevant = new Set(user.truth);
      const pop = popularity(space, user, 100);
      const neighbours = knn.recommend(space, user, 100);
      const scores = twoTowerScores(models, embeddings.subarray(u * models.dim, (u + 1) * models.dim));
      const retrieved = topK(scores, RETRIEVE, user.seen);
      const ranked = await rankWithDlrm(space, models, user, retrieved, scores, now);
      const reranked = await rerankSession(space, models, user, ranked.slice(0, SLATE));
      for (const task of user.sessionTasks.slice(0, 3)) {
        const inSession: EvalUser = { ...user, session: task.prefix, seen: new Set([...user.seen, ...task.prefix.map((id) => space.itemIndex(id))]) };
        const slate = ranked.filter((i) => !inSession.seen.has(i)).slice(0, SLATE);
        const after = await rerankSession(space, models, inSession, slate);
        sessionHits.tasks++;
        if (slate.slice(0, K).includes(task.next)) sessionHits.ranked++;
        if (after.slice(0, K).includes(task.next)) sessionHits.reranked++;
      }
      lists.popularity.push(pop.slice(0, K));
      lists['item-knn'].push(neighbours.slice(0, K));
      lists['two-tower'].push(retrieved.slice(0, K));
      lists['two-tower+dlrm'].push(ranked.slice(0, K));
      lists['two-tower+dlrm+session'].push(reranked.slice(0, K));
      recall100.popularity!.push(scoreList(pop, relevant, 100).recall);
      recall100['item-knn']!.push(scoreList(neighbours, relevant, 100).recall);
      recall100['two-tower']!.push(scoreList(retrieved, relevant, 100).recall);
    }
    process.stderr.write(`\r  evaluating ${Math.min(start + batch, users.length)}/${users.length} users`);
  }
  process.stderr.write('\n');

  const results = {} as Record<System, SystemMetrics>;
  for (const system of SYSTEMS) {
    const per = lists[system].map((list, u) => scoreList(list, new Set(users[u]!.truth), K));
    const mean = (f: (m: (typeof per)[number]) => number): number => per.reduce((s, m) => s + f(m), 0) / Math.max(1, per.length);
    const r100 = recall100[system];
    results[system] = {
      recall: mean((m) => m.recall),
      ndcg: mean((m) => m.ndcg),
      map: mean((m) => m.ap),
      mrr: mean((m) => m.rr),
      coverage: new Set(lists[system].flat()).size / space.itemCount,
      diversity: lists[system].reduce((s, l) => s + intraListDiversity(l, (i) => space.category(i)), 0) / Math.max(1, lists[system].length),
      ...(r100 ? { recall100: r100.reduce((s, v) => s + v, 0) / Math.max(1, r100.length) } : {}),
    };
  }
  const sessionTask = {
    tasks: sessionHits.tasks,
    hitRateRanked: sessionHits.ranked / Math.max(1, sessionHits.tasks),
    hitRateReranked: sessionHits.reranked / Math.max(1, sessionHits.tasks),
  };
  const summary = { dataset: dataset.name, protocol, k: K, users: users.length, candidates: { retrieve: RETRIEVE, slate: SLATE }, results, sessionTask, createdAt: new Date().toISOString() };
  await mkdir(reportsDir, { recursive: true });
  const training = JSON.parse(await readFile(join(modelDir, 'training.json'), 'utf8').catch(() => '{}')) as { losses?: Record<string, number[]> };
  await writeFile(join(reportsDir, `${dataset.name}.json`), JSON.stringify(summary, null, 2));
  const sessionLine = `Next item in session (${sessionTask.tasks} tasks, slate of ${SLATE} from two-tower+DLRM): HitRate@${K} ${sessionTask.hitRateRanked.toFixed(4)} before, ${sessionTask.hitRateReranked.toFixed(4)} after the session rerank.\n`;
  await writeFile(join(reportsDir, `${dataset.name}.md`), markdownTable(summary.results, `${dataset.name}, ${protocol} protocol, ${users.length} users, K=${K}`) + '\n' + sessionLine);
  await writeFile(join(reportsDir, `${dataset.name}.html`), renderReport(summary, training.losses ?? {}));
  console.log(markdownTable(results, `${dataset.name} (${protocol})`));
  console.log(sessionLine);
  const flat: Record<string, number> = {};
  for (const system of SYSTEMS) for (const [metric, value] of Object.entries(results[system])) flat[`${system}.${metric}@${metric === 'recall100' ? 100 : K}`] = Math.round(value * 1e4) / 1e4;
  flat[`session.hitrate@${K}.ranked`] = Math.round(sessionTask.hitRateRanked * 1e4) / 1e4;
  flat[`session.hitrate@${K}.reranked`] = Math.round(sessionTask.hitRateReranked * 1e4) / 1e4;
  return flat;
}

export function markdownTable(results: Record<System, SystemMetrics>, title: string): string {
  const rows = SYSTEMS.map((s) => {
    const m = results[s];
    const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(4));
    return `| ${s} | ${f(m.recall)} | ${f(m.ndcg)} | ${f(m.map)} | ${f(m.mrr)} | ${f(m.recall100)} | ${f(m.coverage)} | ${f(m.diversity)} |`;
  });
  return [`**${title}**`, '', `| system | Recall@${K} | NDCG@${K} | MAP@${K} | MRR@${K} | Recall@100 | coverage@${K} | ILD@${K} |`, '|---|---|---|---|---|---|---|---|', ...rows, ''].join('\n');
}
