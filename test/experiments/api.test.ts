/**
 * Operating experiments on real parts: two origins (replicas) on one private Postgres database and one on
 * embedded PGlite. Create/list/pause/resume/stop through the API key-protected endpoints and the CLI;
 * validation errors name the field; every change is in force on the other replica through LISTEN/NOTIFY,
 * with the poll set to 10 minutes so it cannot be what delivered it (also for a change written in raw SQL).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, createTestDatabase, postJson, startOrigin, type RunningOrigin } from '../origin/support.ts';

const root = join(import.meta.dirname, '..', '..');
const nodeBin = join(root, 'node_modules', '.bin', 'node');
const auth = { authorization: `Bearer ${API_KEY}` };
const slowPoll = { EXPERIMENTS_REFRESH_MS: '600000', RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', CANARY_CHECK_MS: '0' };
let database: { url: string; drop: () => Promise<void> };
let a: RunningOrigin;
let b: RunningOrigin;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startOrigin({ DATABASE_URL: database.url, ...slowPoll });
  b = await startOrigin({ DATABASE_URL: database.url, ...slowPoll });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
});

async function variantOn(origin: RunningOrigin, userId: string): Promise<string | null> {
  // Server to server (as the edge calls it): the API key proves the user id, so the user is assigned.
  const response = await postJson(`${origin.url}/v1/recommend`, { userId, k: 3 }, auth);
  expect(response.status).toBe(200);
  return ((await response.json()) as { variant: string | null }).variant;
}

/** Polls until check() holds (the other replica hears NOTIFY within milliseconds; 5 s is generous). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(nodeBin, [join(root, 'scripts', 'experiment.ts'), ...args, '--url', a.url, '--key', API_KEY], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('experiments API', () => {
  it('is described in the OpenAPI document from the same zod schema', async () => {
    const doc = (await (await fetch(`${a.url}/openapi.json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> } };
    for (const path of ['/v1/experiments', '/v1/experiments/{id}', '/v1/experiments/{id}/pause', '/v1/experiments/{id}/results', '/v1/experiments/{id}/report', '/v1/experiments/{id}/evaluate']) expect(doc.paths[path], path).toBeDefined();
    const create = doc.components.schemas.ExperimentCreate!;
    expect(create.required).toEqual(expect.arrayContaining(['id', 'variants']));
    expect(Object.keys(create.properties!)).toEqual(expect.arrayContaining(['canary', 'shadow', 'primaryMetric', 'status']));
  });

  it('needs the API key', async () => {
    expect((await fetch(`${a.url}/v1/experiments`)).status).toBe(401);
    expect((await fetch(`${a.url}/v1/experiments`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(403);
    expect((await postJson(`${a.url}/v1/experiments`, { id: 'x', variants: [{ id: 'a', weight: 1 }] })).status).toBe(401);
  });

  it('refuses invalid definitions with reasons that name the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ id: 'v1', variants: [{ id: 'a', weight: -1 }] }, /^variants\.0\.weight: /],
      [{ id: 'v2', variants: [{ id: 'a', weight: 1, settings: { mmrLamda: 0.5 } }] }, /^variants\.0\.settings: .*mmrLamda/],
      [{ id: 'v3', variants: [{ id: 'a', weight: 1, settings: { mmrLambda: 7 } }] }, /^variants\.0\.settings\.mmrLambda: /],
      [{ id: 'v4', variants: [{ id: 'a', weight: 1 }, { id: 'a', weight: 1 }] }, /^variants\.1\.id: duplicate/],
      [{ id: 'v5', variants: [{ id: 'a', weight: 0 }] }, /^variants: at least one variant/],
      [{ id: 'bad id!', variants: [{ id: 'a', weight: 1 }] }, /^id: /],
      [{ id: 'v6', variants: [] }, /^variants: /],
      [{ id: 'v7', variants: [{ id: 'a', weight: 1 }], primaryMetric: 'dwell' }, /^primaryMetric: /],
      [{ id: 'v8', variants: [{ id: 'control', weight: 1 }, { id: 'canary', weight: 1 }], canary: {} }, /^variants\.1\.settings\.modelVersion: /],
      [{ id: 'v9', variants: [{ id: 'a', weight: 1, settings: { modelVersion: '../../etc' } }] }, /^variants\.0\.settings\.modelVersion: /],
      [{ id: 'v10', variants: [{ id: 'a', weight: 1 }], colour: 'red' }, /colour/],
    ];
    for (const [body, reason] of cases) {
      const response = await postJson(`${a.url}/v1/experiments`, body, auth);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = (await response.json()) as { error: string; reasons: string[] };
      expect(problem.reasons.some((r) => reason.test(r)), `${JSON.stringify(body)} → ${problem.reasons.join(' | ')}`).toBe(true);
    }
    // A model version that passes the schema but does not exist: refused before it is stored.
    const missing = await postJson(`${a.url}/v1/experiments`, { id: 'v11', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1, settings: { modelVersion: 'm19990101T000000Z' } }] }, auth);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { reasons: string[] }).reasons[0]).toMatch(/^variants\.1\.settings\.modelVersion: model version m19990101T000000Z cannot be loaded/);
    expect((await fetch(`${a.url}/v1/experiments/v11`, { headers: auth })).status).toBe(404);
  });

  it('create, pause, resume and stop on one replica are in force on the other without a restart', async () => {
    const userId = 'u17';
    expect(await variantOn(b, userId)).toBeNull();
    const created = await postJson(`${a.url}/v1/experiments`, { id: 'live', description: 'mmr knob', variants: [{ id: 'control', weight: 1 }, { id: 'diverse', weight: 1, settings: { mmrLambda: 0.5 } }] }, auth);
    expect(created.status).toBe(201);
    expect((await postJson(`${a.url}/v1/experiments`, { id: 'live', variants: [{ id: 'a', weight: 1 }] }, auth)).status).toBe(409);
    expect(await variantOn(a, userId)).toMatch(/^live:(control|diverse)$/); // this replica: at once
    const ms = await eventually(async () => (await variantOn(b, userId)) !== null);
    console.log(JSON.stringify({ notifyPropagationMs: ms }));

    expect((await postJson(`${a.url}/v1/experiments/live/pause`, { reason: 'checking a dashboard' }, auth)).status).toBe(200);
    await eventually(async () => (await variantOn(b, userId)) === null);
    expect((await postJson(`${a.url}/v1/experiments/live/pause`, {}, auth)).status).toBe(409);
    expect((await fetch(`${a.url}/v1/experiments/live/resume`, { method: 'POST', headers: auth })).status).toBe(200);
    await eventually(async () => (await variantOn(b, userId)) !== null);
    expect((await fetch(`${a.url}/v1/experiments/live/stop`, { method: 'POST', headers: auth })).status).toBe(200);
    await eventually(async () => (await variantOn(b, userId)) === null);
    expect((await fetch(`${a.url}/v1/experiments/live/resume`, { method: 'POST', headers: auth })).status).toBe(409); // stopped is final
    expect((await fetch(`${a.url}/v1/experiments/nope/stop`, { method: 'POST', headers: auth })).status).toBe(404);

    const shown = (await (await fetch(`${b.url}/v1/experiments/live`, { headers: auth })).json()) as { experiment: { status: string; stoppedAt: number }; log: { action: string; details: { reason?: string } }[] };
    expect(shown.experiment.status).toBe('stopped');
    expect(shown.log.map((l) => l.action)).toEqual(['created', 'paused', 'resumed', 'stopped']);
    expect(shown.log[1]!.details.reason).toBe('checking a dashboard');
  });

  it('a change written by hand in SQL reaches the replicas through the trigger', async () => {
    expect((await postJson(`${a.url}/v1/experiments`, { id: 'by-hand', variants: [{ id: 'only', weight: 1 }] }, auth)).status).toBe(201);
    await eventually(async () => (await variantOn(b, 'u3')) === 'by-hand:only');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`UPDATE experiments SET status = 'paused' WHERE id = 'by-hand'`);
    await client.end();
    await eventually(async () => (await variantOn(a, 'u3')) === null && (await variantOn(b, 'u3')) === null);
  });

  it('the CLI lists, creates, pauses and reports; refusals exit 1 with the reasons, bad usage exits 2', async () => {
    const created = await cli('create', 'cli-ab', '--variants', 'control:50,lambda:50', '--set', 'lambda.mmrLambda=0.6', '--description', 'from the CLI');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/created cli-ab \(running\)/);
    const listed = await cli('list');
    expect(listed.stdout).toMatch(/cli-ab\s+running\s+ab\s+control:50,lambda:50/);
    const refused = await cli('create', 'cli-bad', '--variants', 'a:1', '--set', 'a.mmrLambda=3');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/variants\.0\.settings\.mmrLambda/);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('pause', 'cli-ab', '--reason', 'lunch')).stdout).toMatch(/cli-ab: paused/);
    const report = await cli('report', 'cli-ab');
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/Experiment cli-ab — paused/);
    expect(report.stdout).toMatch(/paused by api — lunch/);
    const json = await cli('create', '--json', JSON.stringify({ id: 'cli-json', variants: [{ id: 'x', weight: 1 }] }), '--paused');
    expect(json.stdout).toMatch(/created cli-json \(paused\)/);
  });

  it('serves the report as HTML with plots, escaped, under a strict CSP', async () => {
    const response = await fetch(`${a.url}/v1/experiments/cli-ab/report`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await response.text();
    expect(html).toMatch(/<h1>Experiment: cli-ab<\/h1>/);
    expect(html).not.toMatch(/<script/i);
    expect((await fetch(`${a.url}/v1/experiments/cli-ab/report?format=pdf`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${a.url}/v1/experiments/${encodeURIComponent('<x>')}/results`, { headers: auth })).status).toBe(400);
  });
});

describe('on embedded PGlite', () => {
  let embedded: RunningOrigin;
  beforeAll(async () => {
    embedded = await startOrigin({ ...slowPoll });
  });
  afterAll(async () => {
    await embedded?.close();
  });

  it('a change through the API is in force at once, and one written in SQL arrives through PGlite LISTEN', async () => {
    expect(embedded.service.database.kind).toBe('pglite');
    expect((await postJson(`${embedded.url}/v1/experiments`, { id: 'embedded', variants: [{ id: 'only', weight: 1 }] }, auth)).status).toBe(201);
    expect(await variantOn(embedded, 'u5')).toBe('embedded:only');
    const db = await embedded.service.database.get();
    await db.execute(sql`UPDATE experiments SET status = 'paused' WHERE id = 'embedded'`);
    await eventually(async () => (await variantOn(embedded, 'u5')) === null);
    expect((await fetch(`${embedded.url}/v1/experiments/embedded/resume`, { method: 'POST', headers: auth })).status).toBe(200);
    expect(await variantOn(embedded, 'u5')).toBe('embedded:only');
  });

  it('computes results from the embedded database too', async () => {
    const events = [
      { eventId: 'pg-1', type: 'impression', itemId: 'i1', userId: 'u5', sessionId: 's5' },
      { eventId: 'pg-2', type: 'click', itemId: 'i1', userId: 'u5', sessionId: 's5' },
      { eventId: 'pg-3', type: 'purchase', itemId: 'i1', userId: 'u5', sessionId: 's5', value: 12.5 },
      { eventId: 'pg-4', type: 'impression', itemId: 'i2', sessionId: 'anon-1' },
    ];
    expect((await postJson(`${embedded.url}/v1/events`, { events }, auth)).status).toBe(200);
    const report = (await (await fetch(`${embedded.url}/v1/experiments/embedded/results`, { headers: auth })).json()) as { results: { variants: { counts: Record<string, number>; guardrails: { requests: number } }[] } };
    expect(report.results.variants[0]!.counts).toMatchObject({ visitors: 2, impressions: 2, clicks: 1, purchasers: 1, purchases: 1, revenue: 12.5 });
    expect(report.results.variants[0]!.guardrails.requests).toBeGreaterThanOrEqual(2);
  });
});
