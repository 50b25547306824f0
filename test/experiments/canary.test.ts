/**
 * Model canaries and shadows on a real origin (HTTP, private Postgres database, private copies of the demo
 * models). The canary rule runs on the origin's own timer (CANARY_CHECK_MS):
 *  - a canary whose ranker fails (a fault injected into the pinned canary version's loaded session, as the
 *    pipeline resilience tests do) breaches the fallback-rate guardrail and is rolled back: it gets no more
 *    traffic and the pointer stays where it was;
 *  - a canary with a true CTR lift is promoted: current.json moves to its version and the origin serves it;
 * each decision is logged in Postgres with its figures and shown in the report. A shadow configuration's
 * comparisons are persisted and summarised (overlap@k, rank correlation, latency).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignVariant } from '../../origin/experiments/assign.ts';
import { ExperimentSchema } from '../../origin/experiments/definitions.ts';
import type { ExperimentReport } from '../../origin/experiments/service.ts';
import { demoDataset } from '../../batch/seed/seed.ts';
import type { RecoEvent } from '../../shared/contracts/events.ts';
import { createRng } from '../../shared/util/rng.ts';
import { API_KEY, createTestDatabase, postJson, startOrigin, type RunningOrigin } from '../origin/support.ts';
import { cloneVersion, privateArtifacts } from '../pipeline/support.ts';
import { drawVisitor } from './simulate.ts';

const auth = { authorization: `Bearer ${API_KEY}` };
let origin: RunningOrigin;
let drop: () => Promise<void>;
let root = '';
let live = '';

beforeAll(async () => {
  ({ root, version: live } = await privateArtifacts());
  await cloneVersion(root, live, `${live}-broken`);
  await cloneVersion(root, live, `${live}-better`);
  const db = await createTestDatabase();
  drop = db.drop;
  origin = await startOrigin({ DATABASE_URL: db.url, MODELS_DIR: root, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', CANARY_CHECK_MS: '300', EXPERIMENT_STATS_FLUSH_MS: '200', SEED_HISTORIES: 'true' });
});
afterAll(async () => {
  await origin?.close();
  await drop?.();
  await rm(root, { recursive: true, force: true });
});

async function recommend(userId: string): Promise<{ variant: string | null; modelVersion: string; degraded: string[] }> {
  // Server to server (as the edge calls it): the API key proves the user id, so the user is assigned.
  const response = await postJson(`${origin.url}/v1/recommend`, { userId, k: 5 }, { authorization: `Bearer ${API_KEY}` });
  expect(response.status).toBe(200);
  return (await response.json()) as { variant: string | null; modelVersion: string; degraded: string[] };
}

async function requests(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 4) await Promise.all([0, 1, 2, 3].map((k) => recommend(`u${i + k}`)));
}

async function report(id: string): Promise<ExperimentReport> {
  return (await (await fetch(`${origin.url}/v1/experiments/${id}/results`, { headers: auth })).json()) as ExperimentReport;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pointer = async (): Promise<string> => (JSON.parse(await readFile(join(root, 'current.json'), 'utf8')) as { version: string }).version;

describe('canary of a model version', () => {
  it('rolls back a canary that breaches the fallback guardrail; it gets no more traffic', async () => {
    const version = `${live}-broken`;
    const body = { id: 'canary-broken', variants: [{ id: 'control', weight: 0.5 }, { id: 'canary', weight: 0.5, settings: { modelVersion: version } }], canary: { minRequests: 50, minVisitors: 100, p99SlackMs: 1000 } };
    expect((await postJson(`${origin.url}/v1/experiments`, body, auth)).status).toBe(201);
    // The canary's ranker fails on every request (fault injected into its loaded session only).
    const lease = origin.service.models.acquire(version)!;
    expect(lease.model.version).toBe(version);
    lease.model.scoreCandidates = () => Promise.reject(new Error('injected ranker failure'));
    lease.release();

    await requests(0, 200);
    const shown = await until(async () => (await (await fetch(`${origin.url}/v1/experiments/canary-broken`, { headers: auth })).json()) as { experiment: { status: string }; log: { action: string; actor: string; details: { reasons: string[]; figures: { canary: { fallbackRate: number; requests: number }; control: { fallbackRate: number } } } }[] }, (s) => s.experiment.status === 'stopped');
    const decision = shown.log.at(-1)!;
    expect(decision.action).toBe('rolled-back');
    expect(decision.actor).toBe('canary-rule');
    expect(decision.details.reasons.join()).toMatch(/guardrail: fallback rate/);
    expect(decision.details.figures.canary.fallbackRate).toBeGreaterThan(0.9);
    expect(decision.details.figures.canary.requests).toBeGreaterThanOrEqual(50);
    expect(await pointer()).toBe(live);
    // Rolled back: every visitor, including the canary's, gets the live model again.
    const canaryUsers = Array.from({ length: 40 }, (_, i) => `u${i}`).filter((u) => assignVariant(ExperimentSchema.parse(body), u).id === 'canary');
    expect(canaryUsers.length).toBeGreaterThan(5);
    for (const userId of canaryUsers) {
      const answer = await recommend(userId);
      expect(answer.variant).toBeNull();
      expect(answer.modelVersion).toBe(live);
      expect(answer.degraded).not.toContain('ranker-failed');
    }
    const html = await (await fetch(`${origin.url}/v1/experiments/canary-broken/report`, { headers: auth })).text();
    expect(html).toMatch(/<b>rolled-back<\/b>/);
  });

  it('promotes a canary with a true CTR lift: the pointer moves and the origin serves the new version', async () => {
    const version = `${live}-better`;
    const body = { id: 'canary-better', variants: [{ id: 'control', weight: 0.5 }, { id: 'canary', weight: 0.5, settings: { modelVersion: version } }], canary: { minRequests: 50, minVisitors: 1000, p99SlackMs: 1000 } };
    expect((await postJson(`${origin.url}/v1/experiments`, body, auth)).status).toBe(201);
    const definition = ExperimentSchema.parse(body);
    await requests(0, 160);
    // Visitors' events, with the canary arm clicking 7 % against 5 %; the origin assigns and stores the variant.
    const rng = createRng(99);
    const items = demoDataset().items.slice(0, 300).map((i) => i.id);
    let batch: RecoEvent[] = [];
    let n = 0;
    for (let i = 0; i < 8000; i++) {
      const userId = `canary-v${i}`;
      const visitor = drawVisitor(rng, assignVariant(definition, userId).id === 'canary' ? 0.07 : 0.05);
      for (let k = 0; k < visitor.impressions; k++) batch.push({ eventId: `c${n++}`, type: 'impression', itemId: items[(i + k) % items.length]!, userId, sessionId: `s-${userId}` });
      for (let k = 0; k < visitor.clicks; k++) batch.push({ eventId: `c${n++}`, type: 'click', itemId: items[(i + k) % items.length]!, userId, sessionId: `s-${userId}` });
      if (batch.length >= 450 || i === 7999) {
        expect((await postJson(`${origin.url}/v1/events`, { events: batch }, auth)).status).toBe(200);
        batch = [];
      }
    }
    const promoted = await until(async () => (await (await fetch(`${origin.url}/v1/experiments/canary-better`, { headers: auth })).json()) as { experiment: { status: string }; log: { action: string; details: { reasons: string[]; figures: { relativeLowerBound: number; primary: { difference: number } } } }[] }, (s) => s.experiment.status === 'stopped');
    const decision = promoted.log.at(-1)!;
    expect(decision.action).toBe('promoted');
    // Promoted as better, or as non-inferior if the timer looked while the events were still arriving.
    expect(decision.details.reasons.join()).toMatch(/ctr is (better|non-inferior)/);
    expect(decision.details.figures.relativeLowerBound).toBeGreaterThan(-0.05);
    expect(decision.details.figures.primary.difference).toBeGreaterThan(0);
    expect(await pointer()).toBe(version);
    await until(() => recommend('u1'), (a) => a.modelVersion === version && a.variant === null);
    const ready = (await (await fetch(`${origin.url}/readyz`)).json()) as { modelVersion: string };
    expect(ready.modelVersion).toBe(version);
    const text = await (await fetch(`${origin.url}/v1/experiments/canary-better/report?format=text`, { headers: auth })).text();
    expect(text).toMatch(/promoted by canary-rule — ctr is (better|non-inferior)/);
  });
});

describe('shadow', () => {
  it('persists what each shadow run computed and summarises overlap@k, rank correlation and latency', async () => {
    expect((await postJson(`${origin.url}/v1/experiments`, { id: 'shadow-mmr', variants: [{ id: 'only', weight: 1 }], shadow: { settings: { mmrLambda: 0.2 } } }, auth)).status).toBe(201);
    await requests(300, 40);
    const r = await until(() => report('shadow-mmr'), (x) => (x.results.shadow?.comparisons ?? 0) >= 40);
    const s = r.results.shadow!;
    expect(s.comparisons).toBe(40);
    expect(s.errors).toBe(0);
    expect(s.meanOverlapAtK).toBeGreaterThan(0);
    expect(s.meanOverlapAtK).toBeLessThan(1); // λ 0.2 diversifies: a different slate
    expect(s.meanRankCorrelation).not.toBeNull();
    expect(s.shadowP50Ms).not.toBeNull();
    expect(s.servedP99Ms).not.toBeNull();
    expect(r.results.variants[0]!.guardrails.requests).toBe(40);
    const html = await (await fetch(`${origin.url}/v1/experiments/shadow-mmr/report`, { headers: auth })).text();
    expect(html).toMatch(/<h2>Shadow<\/h2>/);
    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    expect(metrics).toMatch(/origin_shadow_overlap_ratio_count\{experiment="shadow-mmr"\} 40/);
    expect(metrics).toMatch(/origin_experiment_requests_total\{experiment="shadow-mmr",variant="only",outcome="ok"\} 40/);
  });
});
