/**
 * The Grafana dashboard (ops/grafana/origin.json) against a real running origin: every metric its queries
 * name is exported at /metrics with samples after some traffic, and every label its queries select on or
 * group by is a label of those metrics (plus `le` of histograms and the scrape's own `instance`/`job`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, postJson, startOrigin, type RunningOrigin } from '../origin/support.ts';

const root = join(import.meta.dirname, '..', '..');
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);
let origin: RunningOrigin;

beforeAll(async () => {
  // Embedded PGlite and the in-process feature store; a small burst so the rate-limit counter gets samples.
  origin = await startOrigin({ TRUST_PROXY: 'true', RATE_LIMIT_BURST: '20', RATE_LIMIT_RPS: '1', SEED_HISTORIES: 'true', CANARY_CHECK_MS: '0' });
});
afterAll(async () => {
  await origin?.close();
});

/** name → label names seen on its samples (histogram series under their _bucket/_sum/_count names). */
function parseExposition(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? /.exec(line);
    if (!match) continue;
    const labels = out.get(match[1]!) ?? new Set<string>();
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1]!);
    out.set(match[1]!, labels);
  }
  return out;
}

describe('Grafana dashboard', () => {
  it('names only metrics and labels that a running origin exports', async () => {
    const auth = { authorization: `Bearer ${API_KEY}` };
    const ip = (n: number) => ({ 'x-forwarded-for': `10.0.0.${n}` });
    expect((await postJson(`${origin.url}/v1/experiments`, { id: 'dash', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], shadow: { settings: { mmrLambda: 0.3 } } }, auth)).status).toBe(201);
    for (let i = 0; i < 10; i++) expect((await postJson(`${origin.url}/v1/recommend`, { userId: `u${i}`, k: 5 }, ip(i))).status).toBe(200);
    expect((await postJson(`${origin.url}/v1/events`, { events: [{ eventId: 'dash-1', type: 'click', itemId: 'i1', sessionId: 's1' }] }, ip(50))).status).toBe(200);
    let limited = 0;
    for (let i = 0; i < 25; i++) if ((await postJson(`${origin.url}/v1/recommend`, { sessionId: 'flood', k: 1 }, ip(99))).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200)); // shadows finish after the answer

    const exported = parseExposition(await (await fetch(`${origin.url}/metrics`)).text());
    const dashboard = JSON.parse(await readFile(join(root, 'ops', 'grafana', 'origin.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[]; templating: { list: { query: unknown }[] } };
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list.filter((v) => typeof v.query === 'string' && v.query.includes('(')).map((v) => ({ where: 'templating', expr: v.query as string })),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    const named = new Set<string>();
    for (const { where, expr } of exprs) {
      const metrics = [...expr.matchAll(/\b((?:origin|process|nodejs)_[a-z0-9_]+)(\{([^}]*)\})?/g)];
      expect(metrics.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const [, name, , selector] of metrics) {
        named.add(name!);
        const labels = exported.get(name!);
        expect(labels, `${where}: ${name} is not in /metrics`).toBeDefined();
        for (const [, label] of (selector ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)/g)) {
          if (!SCRAPE_LABELS.has(label!)) expect(labels!.has(label!), `${where}: ${name} has no label ${label}`).toBe(true);
        }
      }
      const known = new Set(metrics.flatMap(([, name]) => [...(exported.get(name!) ?? [])]));
      for (const [, list] of expr.matchAll(/\b(?:by|ignoring|without|on)\s*\(([^)]*)\)/g)) {
        for (const label of list!.split(',').map((l) => l.trim()).filter(Boolean)) {
          if (!SCRAPE_LABELS.has(label)) expect(known.has(label), `${where}: no metric in "${expr}" has label ${label}`).toBe(true);
        }
      }
    }
    // The list: stage latency, fallbacks, feature-store hits, model version, event ingest, per-variant guardrails.
    for (const needed of ['origin_recommend_stage_duration_seconds_bucket', 'origin_fallbacks_total', 'origin_feature_lookups_total', 'origin_model_version_info', 'origin_events_total', 'origin_experiment_requests_total', 'origin_experiment_request_duration_seconds_bucket']) {
      expect(named.has(needed), needed).toBe(true);
    }
  });
});
