/**
 * The widget as a shopper meets it: real Chromium (Debian's, via playwright-core) loads the demo page from
 * the edge in workerd; slates come from a real nightly run; the origin is the real service on Postgres/Redis.
 * The shopper is signed in (the page carries a user token, as a shop's backend would render it). The test sees
 * recommendations from their own slate, clicks one, checks the click event went through the edge's queue to
 * the origin's Postgres, and saves screenshots (test-results/).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdge, startEdge, userToken, type RunningEdge } from '../edge/support.ts';
import { root, spawnScript, tempDir } from '../nightly/helpers.ts';
import { API_KEY, createTestDatabase, deleteRedisPrefix, REDIS_URL, startOrigin, type RunningOrigin } from '../origin/support.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
let edge: RunningEdge;
let browser: Browser;
const prefix = `browser:${randomBytes(4).toString('hex')}:`;
const dirs: string[] = [];

beforeAll(async () => {
  buildEdge();
  db = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
  const persistTo = await tempDir('browser-kv');
  const stateDir = await tempDir('browser-state');
  dirs.push(persistTo, stateDir);
  const nightly = spawnScript('scripts/nightly.ts', ['--kv', 'local', '--persist-to', persistTo, '--state-dir', stateDir, '--database-url', db.url, '--max-users', '20', '--no-progress']);
  const done = await nightly.done;
  if (done.code !== 0) throw new Error(`nightly failed: ${done.stderr}`);
  // The edge proves forwarded user ids to the origin with its API key, as deployed (docs/security.md).
  edge = await startEdge(persistTo, { ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', ORIGIN_API_KEY: API_KEY });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the <reco-slate> widget in Chromium', () => {
  it('shows recommendations, records a click at the origin, and reranks after it', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const answers: { path: string; degraded: string[] }[] = [];
    page.on('response', async (response) => {
      if (response.url().includes('/v1/recommendations')) answers.push((await response.json()) as { path: string; degraded: string[] });
    });
    await page.goto(`${edge.url}/demo?user=u1&token=${await userToken('u1', 3600)}`);
    const cards = page.locator('reco-slate li a');
    await cards.first().waitFor({ timeout: 20_000 });
    expect(await cards.count()).toBe(8);
    expect(answers[0]).toMatchObject({ path: 'kv-slate', degraded: [] }); // the signed-in shopper's own slate
    // Each card shows an image with alt text, a title, a price and a reason, and is reachable by keyboard.
    const first = cards.first();
    expect(await first.locator('img').getAttribute('alt')).toBeTruthy();
    expect((await first.locator('.t').textContent())?.length).toBeGreaterThan(3);
    expect(await first.locator('.p').textContent()).toMatch(/\d/);
    expect((await first.locator('.r').textContent())?.length).toBeGreaterThan(3);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const resultsDir = join(root, 'test-results');
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, 'widget-before-click.png'), fullPage: true });

    const clickedId = await first.getAttribute('data-item-id');
    expect(clickedId).toBeTruthy();
    await first.click();
    await page.waitForURL(/item=/);
    await page.locator('reco-slate li a').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(resultsDir, 'widget-after-click.png'), fullPage: true });

    // The click beacon went widget → edge → origin → Postgres.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let rows: { type: string; item_id: string; user_id: string | null }[] = [];
    for (let attempt = 0; attempt < 50 && rows.length === 0; attempt++) {
      rows = (await client.query<{ type: string; item_id: string; user_id: string | null }>("SELECT type, item_id, user_id FROM events WHERE type = 'click' AND item_id = $1", [clickedId])).rows;
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const impressions = await client.query("SELECT count(*)::int AS n FROM events WHERE type = 'impression'");
    await client.end();
    expect(rows).toEqual([{ type: 'click', item_id: clickedId, user_id: 'u1' }]); // the token proved the user
    expect(impressions.rows[0].n).toBeGreaterThanOrEqual(8);

    // The page after the click sends the clicked item as a recent view: it is not recommended again.
    const after = await page.locator('reco-slate li a').evaluateAll((links) => links.map((a) => (a as HTMLElement).dataset.itemId));
    expect(after).not.toContain(clickedId);
    expect(await page.evaluate(() => localStorage.getItem('reco:recent'))).toContain(clickedId!);
  });

  it('re-sends an outbox batch whose token expired with the current page\'s token, so its events keep the user', async () => {
    const page = await browser.newPage();
    await page.goto(`${edge.url}/healthz`); // the edge's origin, for its localStorage
    const eventId = `outbox-${randomBytes(4).toString('hex')}`;
    const stale = { events: [{ eventId, type: 'view', itemId: 'i77', userId: 'u2', sessionId: 's-outbox', ts: Date.now() - 3_600_000 }], userToken: await userToken('u2', -60) };
    await page.evaluate((entry) => localStorage.setItem('reco:outbox', JSON.stringify([entry])), { id: 'stale-1', body: JSON.stringify(stale) });
    await page.goto(`${edge.url}/demo?user=u2&token=${await userToken('u2', 3600)}`);
    await page.locator('reco-slate li a').first().waitFor({ timeout: 20_000 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let rows: { user_id: string | null }[] = [];
    for (let attempt = 0; attempt < 50 && rows.length === 0; attempt++) {
      rows = (await client.query<{ user_id: string | null }>('SELECT user_id FROM events WHERE event_id = $1', [eventId])).rows;
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await client.end();
    expect(rows).toEqual([{ user_id: 'u2' }]);
    await page.close();
  });

  it('refuses an href-template that is not http(s) or relative (no javascript: or data: links)', async () => {
    const page = await browser.newPage();
    await page.goto(`${edge.url}/demo`);
    await page.locator('reco-slate li a').first().waitFor({ timeout: 20_000 });
    const templates = { hostile: 'javascript:alert(document.domain)//{id}', data: 'data:text/html,<script>alert(1)</script>{id}', absolute: 'https://shop.example/p/{id}', relative: '/p/{id}?from=reco' };
    await page.evaluate((all) => {
      for (const [name, template] of Object.entries(all)) {
        const element = document.createElement('reco-slate');
        element.id = `w-${name}`;
        element.setAttribute('surface', 'home');
        element.setAttribute('k', '3');
        element.setAttribute('href-template', template);
        document.body.append(element);
      }
    }, templates);
    const hrefs = async (name: string): Promise<string[]> => {
      const links = page.locator(`#w-${name} li a`);
      await links.first().waitFor({ timeout: 20_000 });
      return links.evaluateAll((all) => all.map((a) => `${a.getAttribute('href')}|${(a as HTMLElement).dataset.itemId}`));
    };
    for (const name of ['hostile', 'data']) for (const entry of await hrefs(name)) expect(entry).toMatch(/^#(i\d+)\|\1$/);
    for (const entry of await hrefs('absolute')) expect(entry).toMatch(/^https:\/\/shop\.example\/p\/(i\d+)\|\1$/);
    for (const entry of await hrefs('relative')) expect(entry).toMatch(/^\/p\/(i\d+)\?from=reco\|\1$/);
    await page.close();
  });
});
