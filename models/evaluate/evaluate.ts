/**
 * Offline evaluation of an exported model version on the held-out data, K = 10, full-catalogue ranking, the
 * user's training items excluded: HR@K, Recall@K, NDCG@K, MAP@K, MRR@K, catalogue coverage and intra-list
 * diversity for the baselines (popularity, item-kNN, EASE: fitted on the whole training split with the
 * hyper-parameters chosen on a validation split inside it, models/torch/validation.py) and for each stage of
 * the served pipeline, run through the serving code (served.ts). Same users, same split for every system, and
 * the same availability rule: no list shows an item the catalogue has out of stock, as the served pipeline's
 * rules never do (a baseline put in front of visitors would be filtered the same way).
 * Writes <reports>/<dataset>.json, .md and .html and returns flat metrics for the manifest.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import type { EvalUser } from '../prepare/prepare.ts';
import type { TimeSplit } from '../prepare/split.ts';
import { intraListDiversity, scoreList } from './metrics.ts';
import { renderReport } from './report.ts';
import { servedLists, STAGES } from './served.ts';
import { ItemKnn, popularity } from './systems.ts';
import { sessionProtocol, type SessionResult } from './session.ts';

export const K = 10;
const MAX_USERS = 2000;

export interface SystemMetrics {
  hr: number;
  recall: number;
  ndcg: number;
  map: number;
  mrr: number;
  coverage: number;
  diversity: number;
}

export interface EvaluateOptions {
  /** The training work folder holding baselines.json (lists of the tuned baselines); absent: TS popularity/item-kNN. */
  workDir: string | undefined;
  trainSeconds: number | undefined;
}

interface Baselines {
  lists: Record<string, number[][]>;
  choice: { knn: [number, number, number | null] | null; ease: [number, number | null] | null; served: string; examples?: number };
}

export async function evaluate(dataset: Dataset, split: TimeSplit, evalUsers: readonly EvalUser[], modelDir: string, reportsDir: string,
  protocol: string, options: EvaluateOptions = { workDir: undefined, trainSeconds: undefined }): Promise<Record<string, number>> {
  const started = Date.now();
  const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(await readFile(join(modelDir, 'feature_space.json'), 'utf8'))));
  const users = evalUsers.slice(0, MAX_USERS);
  const lists: Record<string, number[][]> = {};
  // Feature-space indices of out-of-stock items (none in the MovieLens conversions; 8 % of the built-in shop).
  const unavailable = new Set(dataset.items.filter((item) => item.stock <= 0).map((item) => space.itemIndex(item.id)));
  const shown = (list: readonly number[]): number[] => list.filter((index) => !unavailable.has(index)).slice(0, K);
  const baselineFile = options.workDir ? join(options.workDir, 'baselines.json') : '';
  let choice: Baselines['choice'] | undefined;
  if (baselineFile && existsSync(baselineFile)) {
    const baselines = JSON.parse(await readFile(baselineFile, 'utf8')) as Baselines;
    choice = baselines.choice;
    for (const [name, perUser] of Object.entries(baselines.lists)) lists[name] = perUser.slice(0, users.length).map(shown);
  } else {
    const histories = new Map<string, number[]>();
    for (const e of split.train) if (e.type !== 'impression' && e.type !== 'click') histories.set(e.userId, [...(histories.get(e.userId) ?? []), space.itemIndex(e.itemId)]);
    const knn = new ItemKnn(space, [...histories.values()]);
    lists.popularity = users.map((u) => shown(popularity(space, u, K + unavailable.size)));
    lists['item-knn'] = users.map((u) => shown(knn.recommend(space, u, K + unavailable.size)));
  }
  const now = split.train.at(-1)?.ts ?? 0;
  const stages = await servedLists(modelDir, dataset.items, users.map((u) => ({ segment: u.segment, history: u.history })), K, now,
    (done) => process.stderr.write(`\r  evaluating ${done}/${users.length} users`));
  process.stderr.write('\n');
  for (const stage of STAGES) lists[stage] = stages[stage];
  const session = await sessionProtocol(modelDir, dataset.items, users, K, now);

  const results: Record<string, SystemMetrics> = {};
  for (const [system, perUser] of Object.entries(lists)) {
    const per = perUser.map((list, u) => scoreList(list, new Set(users[u]!.truth), K));
    const mean = (f: (m: (typeof per)[number]) => number): number => per.reduce((s, m) => s + f(m), 0) / Math.max(1, per.length);
    results[system] = {
      hr: mean((m) => m.hit),
      recall: mean((m) => m.recall),
      ndcg: mean((m) => m.ndcg),
      map: mean((m) => m.ap),
      mrr: mean((m) => m.rr),
      coverage: new Set(perUser.flat()).size / space.itemCount,
      diversity: perUser.reduce((s, l) => s + intraListDiversity(l, (i) => space.category(i)), 0) / Math.max(1, perUser.length),
    };
  }
  const training = JSON.parse(await readFile(join(modelDir, 'training.json'), 'utf8').catch(() => '{}')) as { losses?: Record<string, number[]>; timings?: Record<string, number> };
  const summary = {
    dataset: dataset.name, protocol, k: K, users: users.length, results, session, choice: choice ?? null,
    seconds: { train: options.trainSeconds ?? null, evaluate: (Date.now() - started) / 1000, stages: training.timings ?? {} },
    createdAt: new Date().toISOString(),
  };
  await mkdir(reportsDir, { recursive: true });
  await writeFile(join(reportsDir, `${dataset.name}.json`), JSON.stringify(summary, null, 2));
  const title = `${dataset.name}, ${protocol} protocol, ${users.length} users, K=${K}`;
  const notes = [
    choice ? `Hyper-parameters chosen on a validation split inside the training data (never the test split): item-kNN (k, shrink, newest-items window; null = all) = ${JSON.stringify(choice.knn)}, EASE (lambda, window) = ${choice.ease ? JSON.stringify(choice.ease) : 'not run (catalogue too large for the dense closed form)'}; served item-to-item source: ${choice.served}.` : 'Baselines computed in TypeScript (no training work folder).',
    `Training ${summary.seconds.train === null ? '–' : `${Math.round(summary.seconds.train)} s`} end to end before evaluation; evaluation ${Math.round(summary.seconds.evaluate)} s.`,
    session.line,
  ];
  await writeFile(join(reportsDir, `${dataset.name}.md`), markdownTable(results, title) + '\n' + notes.join('\n\n') + '\n');
  await writeFile(join(reportsDir, `${dataset.name}.html`), renderReport({ ...summary, results }, training.losses ?? {}));
  console.log(markdownTable(results, title));
  console.log(notes.join('\n'));
  const flat: Record<string, number> = {};
  for (const [system, m] of Object.entries(results)) for (const [metric, value] of Object.entries(m)) flat[`${system}.${metric}@${K}`] = Math.round(value * 1e4) / 1e4;
  for (const [name, value] of Object.entries(session.metrics)) flat[`session.${name}`] = Math.round(value * 1e4) / 1e4;
  flat['session.gate'] = session.gate === 'on' ? 1 : 0;
  return flat;
}

export function markdownTable(results: Record<string, SystemMetrics>, title: string): string {
  const f = (v: number): string => v.toFixed(4);
  const rows = Object.entries(results).map(([s, m]) => `| ${s} | ${f(m.hr)} | ${f(m.recall)} | ${f(m.ndcg)} | ${f(m.map)} | ${f(m.mrr)} | ${f(m.coverage)} | ${f(m.diversity)} |`);
  return [`**${title}**`, '', `| system | HR@${K} | Recall@${K} | NDCG@${K} | MAP@${K} | MRR@${K} | coverage@${K} | ILD@${K} |`, '|---|---|---|---|---|---|---|---|', ...rows, ''].join('\n');
}

export type { SessionResult };
