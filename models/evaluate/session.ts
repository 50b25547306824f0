/**
 * Session reranking measured without session ids, and its strength chosen. Two kinds of task per evaluation user:
 * - next item: where the test window has multi-item sessions (the shop), each session's first items act as the
 *   session and the next one is the target, the slate coming from the training history; elsewhere the newest
 *   PSEUDO_SESSION_ITEMS history items act as the session and the held-out items are the targets (MovieLens
 *   leave-one-out: the next item; the ML-1M random hold-out has no order, so it is the held-out items);
 * - long horizon: the newest PSEUDO_SESSION_ITEMS history items act as the session, every test item is a target.
 * Both places that apply the reranker are measured, each with it off and at every strength of STRENGTHS:
 * - edge: the slate the nightly computed without the session (SESSION_SLATE long), the session's items dropped
 *   as the edge drops them, its head reranked (same model, inputs and blend as edge/src/recommend.ts);
 * - origin: the request carries the session items and the origin's session stage reranks the ranked head.
 * The choice is made on half of the users (even positions): the strength with the best edge next-item HR@K among
 * those that raise it significantly (McNemar's test on the tasks whose hit changed, continuity-corrected, one-sided
 * p < SIGNIFICANCE: a gain of a few tasks is noise, and a reranker that cannot show more is not worth its cost) and
 * keep every long-horizon NDCG@K within 5 % of off; none: gate off. The other half reports off against the chosen
 * strength. The trainer writes the gate and strength into the manifest, which the
 * origin obeys and the nightly publishes for the edge.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import type { Item } from '../../shared/catalog/types.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { blendSessionScores, encodeSlateForSession, itemFeaturesOf } from '../../shared/features/encode.ts';
import { SESSION_LENGTH } from '../../shared/features/spec.ts';
import { SESSION_SLATE } from '../../core/pipeline/stages/session.ts';
import type { LoadedModel } from '../../core/ports/model.ts';
import type { PipelineRequest } from '../../core/pipeline/types.ts';
import { PSEUDO_SESSION_ITEMS, type EvalUser } from '../prepare/prepare.ts';
import { scoreList } from './metrics.ts';

export interface SessionResult {
  line: string;
  gate: 'on' | 'off';
  /** The chosen strength (0 when the gate is off). */
  strength: number;
  metrics: Record<string, number>;
}

/** Strengths tried (blendSessionScores: 0 = the slate order, 1 = the reranker's own order). */
export const STRENGTHS = [0.1, 0.25, 0.5, 1] as const;
/** One-sided level of the test a strength's next-item gain must pass on the choosing half. */
export const SIGNIFICANCE = 0.05;
/** Next-item tasks per user at most (the shop's test sessions give several). */
const TASKS_PER_USER = 3;
const KINDS = ['next', 'long'] as const;
const PLACES = ['edge', 'origin'] as const;
type Kind = (typeof KINDS)[number];
type Place = (typeof PLACES)[number];

interface Task {
  user: EvalUser;
  kind: Kind;
  history: string[];
  session: string[];
  truth: Set<number>;
  half: 0 | 1;
}

/**
 * McNemar's test, continuity-corrected, on paired hits: `wins` tasks hit only with the reranker, `losses` only
 * without. One-sided p that the reranker gains (1 when it does not win more than it loses).
 */
export function mcnemarGainP(wins: number, losses: number): number {
  if (wins <= losses) return 1;
  const chi2 = (wins - losses - 1) ** 2 / (wins + losses);
  return (1 - chisquareCdf(chi2, 1)) / 2;
}

/**
 * Sums of HR and NDCG per half, kind, place and strength (0 = off), and per half and strength the edge next-item
 * tasks that the strength turned into a hit (wins) or out of one (losses) against off.
 */
class Tally {
  private readonly sums = new Map<string, { n: number; hr: number; ndcg: number }>();
  private readonly changed = new Map<string, { wins: number; losses: number }>();
  /** Adds one list; returns its hit (0 or 1). */
  add(half: number, kind: Kind, place: Place, strength: number, list: readonly number[], truth: Set<number>, k: number): number {
    const key = `${half}|${kind}|${place}|${strength}`;
    const s = this.sums.get(key) ?? { n: 0, hr: 0, ndcg: 0 };
    const score = scoreList(list.slice(0, k), truth, k);
    s.n++;
    s.hr += score.hit;
    s.ndcg += score.ndcg;
    this.sums.set(key, s);
    return score.hit;
  }
  pair(half: number, strength: number, hitOff: number, hitOn: number): void {
    const key = `${half}|${strength}`;
    const c = this.changed.get(key) ?? { wins: 0, losses: 0 };
    if (hitOn > hitOff) c.wins++;
    if (hitOn < hitOff) c.losses++;
    this.changed.set(key, c);
  }
  /** The edge next-item hits at `strength` against off: tasks won, lost, and the one-sided p of a gain. */
  gainTest(half: number, strength: number): { wins: number; losses: number; p: number } {
    const { wins, losses } = this.changed.get(`${half}|${strength}`) ?? { wins: 0, losses: 0 };
    return { wins, losses, p: mcnemarGainP(wins, losses) };
  }
  mean(half: number, kind: Kind, place: Place, strength: number): { n: number; hr: number; ndcg: number } {
    const s = this.sums.get(`${half}|${kind}|${place}|${strength}`) ?? { n: 0, hr: 0, ndcg: 0 };
    return { n: s.n, hr: s.hr / Math.max(1, s.n), ndcg: s.ndcg / Math.max(1, s.n) };
  }
}

function tasksOf(users: readonly EvalUser[], space: LoadedModel['space']): Task[] {
  const tasks: Task[] = [];
  users.forEach((user, position) => {
    if (user.history.length <= PSEUDO_SESSION_ITEMS + 1) return;
    const half = (position % 2) as 0 | 1;
    const pseudo = { user, history: user.history.slice(0, -PSEUDO_SESSION_ITEMS), session: user.history.slice(-PSEUDO_SESSION_ITEMS), truth: new Set(user.truth), half };
    tasks.push({ ...pseudo, kind: 'long' });
    const real = user.sessionTasks.filter((t) => t.next > 0).slice(0, TASKS_PER_USER);
    if (real.length === 0) tasks.push({ ...pseudo, kind: 'next' });
    for (const t of real) tasks.push({ user, kind: 'next', history: user.history, session: t.prefix.filter((id) => space.itemIndex(id) > 0).slice(-SESSION_LENGTH), truth: new Set([t.next]), half });
  });
  return tasks.filter((t) => t.session.length > 0);
}

/** The edge's rerank of a slate's head (item indices, best first): the reranker's scores blended at each strength. */
async function edgeOrders(model: LoadedModel, slate: readonly number[], session: readonly number[]): Promise<Map<number, number[]>> {
  const head = slate.slice(0, SESSION_SLATE);
  const out = new Map<number, number[]>([[0, [...slate]]]);
  if (!model.scoreSession || head.length < 2) {
    for (const strength of STRENGTHS) out.set(strength, [...slate]);
    return out;
  }
  const features = (index: number) => itemFeaturesOf(model.space, index, model.sessionVectors);
  const input = encodeSlateForSession(head.map(features), session.map(features));
  const scores = await model.scoreSession(input);
  for (const strength of STRENGTHS) {
    const blended = blendSessionScores(scores, input.candScore, strength);
    out.set(strength, head.map((item, r) => ({ item, s: blended[r]! })).sort((a, b) => b.s - a.s).map((x) => x.item));
  }
  return out;
}

export async function sessionProtocol(modelDir: string, items: readonly Item[], users: readonly EvalUser[], k: number, now: number): Promise<SessionResult> {
  const served = await openServedPipeline({ ...fixedVersionServing(modelDir, items), annCacheDir: null, log: () => undefined });
  const tally = new Tally();
  const lease = served.registry.acquire();
  try {
    const model = lease?.model;
    if (!model) throw new Error(`model ${modelDir} did not load`);
    const space = model.space;
    const indices = (list: readonly { id: string }[]): number[] => list.map((item) => space.itemIndex(item.id));
    const tasks = tasksOf(users, space);
    for (let start = 0; start < tasks.length; start += 64) {
      const chunk = tasks.slice(start, start + 64);
      const ask = (size: number, withSession: boolean, strength: number | null) => served.pipeline.recommendBatch(chunk.map((t): PipelineRequest => ({
        segment: t.user.segment, surface: 'evaluation', k: size, history: t.history, sessionItems: withSession ? t.session : [], excludeIds: [], now,
        explorationSlots: 0, settings: strength === null ? { sessionRerank: false } : { sessionRerank: true, sessionRerankStrength: strength },
      })));
      const nightly = await ask(SESSION_SLATE, false, null);
      const origin = new Map<number, Awaited<ReturnType<typeof ask>>>([[0, await ask(k, true, null)]]);
      for (const strength of STRENGTHS) origin.set(strength, await ask(k, true, strength));
      for (const [i, t] of chunk.entries()) {
        const session = t.session.map((id) => space.itemIndex(id)).filter((index) => index > 0);
        const shown = new Set(session);
        const edge = await edgeOrders(model, indices(nightly[i]!.items).filter((index) => !shown.has(index)), session);
        const hitOff = tally.add(t.half, t.kind, 'edge', 0, edge.get(0)!, t.truth, k);
        tally.add(t.half, t.kind, 'origin', 0, indices(origin.get(0)![i]!.items), t.truth, k);
        for (const strength of STRENGTHS) {
          const hitOn = tally.add(t.half, t.kind, 'edge', strength, edge.get(strength)!, t.truth, k);
          if (t.kind === 'next') tally.pair(t.half, strength, hitOff, hitOn);
          tally.add(t.half, t.kind, 'origin', strength, indices(origin.get(strength)![i]!.items), t.truth, k);
        }
      }
    }
  } finally {
    lease?.release();
    await served.close();
  }
  return decide(tally, k);
}

function decide(tally: Tally, k: number): SessionResult {
  const holds = (half: number, strength: number): boolean =>
    PLACES.every((place) => tally.mean(half, 'long', place, strength).ndcg >= 0.95 * tally.mean(half, 'long', place, 0).ndcg);
  const gain = (half: number, strength: number): number => tally.mean(half, 'next', 'edge', strength).hr - tally.mean(half, 'next', 'edge', 0).hr;
  const significant = (strength: number): boolean => tally.gainTest(0, strength).p < SIGNIFICANCE;
  const feasible = STRENGTHS.filter((strength) => gain(0, strength) > 0 && significant(strength) && holds(0, strength));
  const chosen = feasible.reduce<number>((best, strength) => (best === 0 || gain(0, strength) > gain(0, best) ? strength : best), 0);
  const gate = chosen > 0 ? 'on' : 'off';
  // Reported on the other half: off against the chosen strength (against full strength when the gate is off, to show why).
  const shown = chosen > 0 ? chosen : 1;
  const metrics: Record<string, number> = { strength: chosen, tasks: tally.mean(1, 'next', 'edge', 0).n, 'long.tasks': tally.mean(1, 'long', 'edge', 0).n };
  const parts: string[] = [];
  for (const kind of KINDS) {
    for (const place of PLACES) {
      const off = tally.mean(1, kind, place, 0);
      const on = tally.mean(1, kind, place, shown);
      Object.assign(metrics, { [`${kind}.${place}.hr@${k}.off`]: off.hr, [`${kind}.${place}.hr@${k}.on`]: on.hr, [`${kind}.${place}.ndcg@${k}.off`]: off.ndcg, [`${kind}.${place}.ndcg@${k}.on`]: on.ndcg });
      parts.push(`${kind === 'next' ? 'next item' : 'long horizon'} at the ${place}: HR@${k} ${off.hr.toFixed(4)} → ${on.hr.toFixed(4)}, NDCG@${k} ${off.ndcg.toFixed(4)} → ${on.ndcg.toFixed(4)}`);
    }
  }
  const tried = STRENGTHS.map((s) => {
    const test = tally.gainTest(0, s);
    return `${s}: next-item HR ${gain(0, s) >= 0 ? '+' : ''}${gain(0, s).toFixed(4)} (${test.wins} tasks won, ${test.losses} lost, p ${test.p < 0.001 ? '< 0.001' : test.p.toFixed(3)})${holds(0, s) ? '' : ' (long horizon −5 % or worse)'}`;
  }).join('; ');
  const line = `Session protocol (${metrics.tasks} next-item and ${metrics['long.tasks']} long-horizon tasks reported; strength chosen on the other half of the users — ${tried}): ` +
    `gate ${gate}${chosen > 0 ? `, strength ${chosen}` : ''}; reranker off → ${chosen > 0 ? 'on' : 'on at strength 1'}: ${parts.join('; ')}.`;
  return { line, gate, strength: chosen, metrics };
}
