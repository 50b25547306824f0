/**
 * Weak defaults closed (issue 12.8), on the origin:
 *   - NODE_ENV=production refuses the published demo key and API keys under 32 characters (the server exits
 *     2 naming the problem), while development keeps accepting them;
 *   - event timestamps before 2000 or more than a day ahead are refused with a reason, and nothing is stored;
 *   - /openapi.json never echoes the request's Host header into `servers` (PUBLIC_URL names it, or nothing).
 * (The widget's href-template rule is tested in Chromium: test/browser/widget.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../origin/config.ts';
import { API_KEY, createTestDatabase, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

const root = join(import.meta.dirname, '..', '..');
const DEMO_KEY = 'demo-key-change-me-0123456789';
const STRONG = 'k9Jx2mQv7Lp4Rt8Wz1Yb6Nc3Hf5Gd0Sa-Ue';
let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;

beforeAll(async () => {
  db = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: db.url, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', PUBLIC_URL: 'https://api.shop.example' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await db?.drop();
});

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
}

describe('NODE_ENV=production', () => {
  it('refuses the demo key and keys shorter than 32 characters; development accepts them', () => {
    expect(issuesOf({ NODE_ENV: 'production', API_KEYS: DEMO_KEY }).join('\n')).toMatch(/API_KEYS: the published demo key is refused/);
    expect(issuesOf({ NODE_ENV: 'production', API_KEYS: `${STRONG},short-key-0123456789` }).join('\n')).toMatch(/API_KEYS: each API key needs at least 32 characters/);
    expect(issuesOf({ NODE_ENV: 'production', API_KEYS: STRONG })).toEqual([]);
    expect(issuesOf({ API_KEYS: `${DEMO_KEY},short-key-0123456789` })).toEqual([]);
  });

  it('makes the server exit with code 2 naming the demo key', () => {
    const run = spawnSync(join(root, 'node_modules', '.bin', 'node'), [join(root, 'origin', 'server.ts')], { env: { ...process.env, NODE_ENV: 'production', API_KEYS: DEMO_KEY, PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('API_KEYS: the published demo key is refused');
  });
});

describe('event timestamps', () => {
  it('refuses events dated before 2000 or more than a day ahead, with a reason, storing nothing', async () => {
    const cases: [number, RegExp][] = [
      [1_700_000_000, /before 2000-01-01/], // seconds, not milliseconds
      [0, /before 2000-01-01/],
      [Date.now() + 3 * 24 * 3600 * 1000, /more than 24 hours in the future/],
      [8_640_000_000_000_000, /more than 24 hours in the future/],
    ];
    for (const [ts, reason] of cases) {
      const eventId = uniqueId('e-ts');
      const response = await postJson(`${origin.url}/v1/events`, { events: [{ eventId, type: 'view', itemId: 'i1', sessionId: 's-ts', ts }] }, { 'x-api-key': API_KEY });
      expect(response.status, String(ts)).toBe(400);
      const body = (await response.json()) as { reasons: string[] };
      expect(body.reasons.join(' ')).toMatch(reason);
      expect(body.reasons.join(' ')).toContain('events.0.ts');
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await client.query("SELECT count(*)::int AS n FROM events WHERE event_id LIKE 'e-ts%'")).rows[0].n).toBe(0);
    await client.end();
    // Within bounds (a client clock an hour fast) is stored.
    const fine = await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e-ok'), type: 'view', itemId: 'i1', sessionId: 's-ts', ts: Date.now() + 3_600_000 }] });
    expect(fine.status).toBe(200);
  });
});

describe('/openapi.json', () => {
  it('names PUBLIC_URL in servers, whatever Host the request carries', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const url = new URL(`${origin.url}/openapi.json`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'evil.example' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).not.toContain('evil.example');
    expect((JSON.parse(body) as { servers: { url: string }[] }).servers).toEqual([{ url: 'https://api.shop.example' }]);
  });

  it('has no servers entry without PUBLIC_URL', async () => {
    const other = await startOrigin({ DATABASE_URL: db.url });
    try {
      const doc = (await (await fetch(`${other.url}/openapi.json`, { headers: { 'x-forwarded-host': 'evil.example' } })).json()) as { servers?: unknown };
      expect(doc.servers).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
