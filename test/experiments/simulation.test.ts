/**
 * End to end on real parts: a real origin (HTTP) on a private Postgres database. Two overlapping experiments
 * are created through the API: an A/B test whose treatment has a true CTR of 6 % against 5 %, and an A/A test.
 * 20 000 simulated visitors' impressions, clicks, add-to-carts and purchases (with revenue) are replayed
 * through POST /v1/events without a variant, so the origin assigns and stores it; then the results endpoint
 * must report exactly the sums that were sent, find the A/B winner, and find no winner in the A/A test.
 * (The error rates over repeated seeds are measured on the statistics directly: statistics.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_COUNTS, type ArmCounts } from '../../core/experiments/metrics.ts';
import { assignVariant } from '../../origin/experiments/assign.ts';
import { ExperimentSchema } from '../../origin/experiments/definitions.ts';
import type { ExperimentReport } from '../../origin/experiments/service.ts';
import { demoDataset } from '../../batch/seed/seed.ts';
import type { RecoEvent } from '../../shared/contracts/events.ts';
import { createRng } from '../../shared/util/rng.ts';
import { API_KEY, createTestDatabase, postJson, startOrigin, type RunningOrigin } from '../origin/support.ts';
import { addVisitor, drawVisitor } from './simulate.ts';

const VISITORS = 20_000;
const auth = { authorization: `Bearer ${API_KEY}` };
let origin: RunningOrigin;
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  origin = await startOrigin({ DATABASE_URL: db.url, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', CANARY_CHECK_MS: '0' });
});
afterAll(async () => {
  await origin?.close();
  await drop?.();
});

const AB = { id: 'sim-ab', variants: [{ id: 'control', weight: 1 }, { id: 'treatment', weight: 1 }], primaryMetric: 'ctr' as const };
const AA = { id: 'sim-aa', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], primaryMetric: 'ctr' as const };

async function results(id: string): Promise<ExperimentReport> {
  const response = await fetch(`${origin.url}/v1/experiments/${id}/results`, { headers: auth });
  expect(response.status).toBe(200);
  return (await response.json()) as ExperimentReport;
}

describe('A/B and A/A replayed through the event endpoint into Postgres', () => {
  it('reports the sums it was sent, the true winner of the A/B test, and no winner of the A/A test', async () => {
    for (const definition of [AB, AA]) expect((await postJson(`${origin.url}/v1/experiments`, definition, auth)).status).toBe(201);
    const ab = ExperimentSchema.parse(AB);
    const aa = ExperimentSchema.parse(AA);
    const items = demoDataset().items.slice(0, 500).map((i) => i.id);
    const rng = createRng(20261127);
    const sent = { ab: new Map<string, ArmCounts>(), aa: new Map<string, ArmCounts>() };
    const revenue = new Map<string, number>();
    let batch: RecoEvent[] = [];
    let eventNo = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const response = await postJson(`${origin.url}/v1/events`, { events: batch }, auth);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { accepted: number }).accepted).toBe(batch.length);
      batch = [];
    };
    const push = async (e: Omit<RecoEvent, 'eventId'>): Promise<void> => {
      batch.push({ ...e, eventId: `sim-${eventNo++}` });
      if (batch.length === 500) await flush();
    };
    for (let i = 0; i < VISITORS; i++) {
      const userId = `sim-u${i}`;
      const armAb = assignVariant(ab, userId).id;
      const armAa = assignVariant(aa, userId).id;
      const visitor = drawVisitor(rng, armAb === 'treatment' ? 0.06 : 0.05);
      for (const counts of [[sent.ab, armAb], [sent.aa, armAa]] as const) {
        const c = counts[0].get(counts[1]) ?? { ...EMPTY_COUNTS };
        addVisitor(c, visitor);
        counts[0].set(counts[1], c);
      }
      const base = { userId, sessionId: `sim-s${i}`, surface: 'home' };
      for (let k = 0; k < visitor.impressions; k++) await push({ ...base, type: 'impression', itemId: items[(i + k) % items.length]!, position: k });
      for (let k = 0; k < visitor.clicks; k++) await push({ ...base, type: 'click', itemId: items[(i + k) % items.length]!, position: k });
      if (visitor.clicks > 0 && rng.next() < 0.3) {
        await push({ ...base, type: 'add_to_cart', itemId: items[i % items.length]! });
        if (rng.next() < 0.5) {
          const value = Math.round(2000 + rng.next() * 8000) / 100;
          await push({ ...base, type: 'purchase', itemId: items[i % items.length]!, value });
          revenue.set(armAb, (revenue.get(armAb) ?? 0) + value);
        }
      }
    }
    await flush();

    const abReport = await results('sim-ab');
    const aaReport = await results('sim-aa');
    // What Postgres aggregated is exactly what was sent, per arm of both overlapping experiments.
    for (const [report, truth] of [[abReport, sent.ab], [aaReport, sent.aa]] as const) {
      for (const variant of report.results.variants) {
        const expected = truth.get(variant.id)!;
        expect(variant.counts).toMatchObject({ visitors: expected.visitors, impressions: expected.impressions, clicks: expected.clicks, impressionsSq: expected.impressionsSq, clicksSq: expected.clicksSq, clicksTimesImpressions: expected.clicksTimesImpressions });
      }
    }
    for (const variant of abReport.results.variants) expect(variant.counts.revenue).toBeCloseTo(revenue.get(variant.id) ?? 0, 6);

    const ctr = (r: ExperimentReport) => r.results.comparisons.find((c) => c.metric === 'ctr')!;
    console.log(JSON.stringify({ replay: 'A/B 5%→6%', visitors: VISITORS, winner: abReport.results.winner, ctr: [ctr(abReport).control, ctr(abReport).treatment], ci: ctr(abReport).ci, p: ctr(abReport).pValue }));
    console.log(JSON.stringify({ replay: 'A/A', visitors: VISITORS, winner: aaReport.results.winner, ci: ctr(aaReport).ci, p: ctr(aaReport).pValue }));
    expect(abReport.results.winner).toBe('treatment');
    expect(ctr(abReport).verdict).toBe('better');
    expect(ctr(abReport).ci![0]).toBeGreaterThan(0);
    expect(ctr(abReport).ci![0]).toBeLessThan(0.01); // the true difference lies inside the interval
    expect(ctr(abReport).ci![1]).toBeGreaterThan(0.01);
    expect(aaReport.results.winner).toBeNull();
    expect(ctr(aaReport).ci![0]).toBeLessThan(0);
    expect(ctr(aaReport).ci![1]).toBeGreaterThan(0);
    expect(abReport.results.srm.flagged).toBe(false);
    expect(aaReport.results.srm.flagged).toBe(false);
  });
});
