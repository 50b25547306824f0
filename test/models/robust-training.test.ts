/**
 * Training on real-shaped data (issue 11.6): no multi-item sessions, a single segment, items without category or
 * brand, users with one interaction, ids that are not numbers — `npm run train` must train, export and evaluate.
 * Data that cannot train a model at all must fail with one clear line, not a traceback.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelManifestSchema } from '../../shared/contracts/manifest.ts';
import { createRng } from '../../shared/util/rng.ts';
import { root } from './support.ts';

const base = mkdtempSync(join(tmpdir(), 'reco-robust-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function train(file: string, name: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(root, 'models', 'train.ts'), '--dataset', 'json', '--data', file, '--epochs', '1', '--dim', '8',
    '--no-publish', '--out', join(base, name, 'artifacts'), '--reports', join(base, name, 'reports'), '--work', join(base, name, 'work')],
  { encoding: 'utf8', timeout: 240_000 }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
}

/** 120 items with string ids and no category/brand/price; 80 users, each event its own session; some users with one event. */
function shopLike(): object {
  const rng = createRng(5);
  const items = Array.from({ length: 120 }, (_, i) => ({ id: `sku-${i.toString(36)}-x`, title: `Thing ${i}` }));
  const interactions: object[] = [];
  for (let u = 0; u < 80; u++) {
    // Users overlap in time, so the last 10 % of time (the test window) holds many users' later events.
    let ts = Date.UTC(2024, 0, 1) + rng.int(30) * 86_400_000;
    const n = u % 5 === 0 ? 1 : 3 + rng.int(10);
    const taste = rng.int(6);
    for (let j = 0; j < n; j++) {
      const item = items[(taste * 20 + rng.int(20) + (rng.next() < 0.2 ? rng.int(120) : 0)) % 120]!;
      interactions.push({ userId: `user_${u.toString(16)}@shop`, itemId: item.id, ts: new Date((ts += (1 + rng.int(72)) * 3_600_000)).toISOString() });
    }
  }
  return { name: 'robust-shop', items, interactions };
}

describe('robust training on real-shaped data', () => {
  it('trains, exports and evaluates without sessions, segments, categories or numeric ids', () => {
    const file = join(base, 'shop.json');
    writeFileSync(file, JSON.stringify(shopLike()));
    const result = train(file, 'shop');
    expect(result.status, `${result.stderr}\n${result.stdout}`).toBe(0);
    const artifacts = join(base, 'shop', 'artifacts');
    const version = readdirSync(artifacts)[0]!;
    const manifest = ModelManifestSchema.parse(JSON.parse(readFileSync(join(artifacts, version, 'manifest.json'), 'utf8')));
    expect(manifest.vocab.segments).toBe(1);
    expect(manifest.files.itemNeighbours).toBe('item_neighbours.bin');
    for (const file of ['user_tower.onnx', 'dlrm.onnx', 'session_reranker.onnx', 'item_neighbours.bin']) expect(existsSync(join(artifacts, version, file)), file).toBe(true);
    // The evaluation ran through the served pipeline and reported every system.
    expect(manifest.metrics['served.ndcg@10']).toBeGreaterThanOrEqual(0);
    expect(manifest.metrics['ease.hr@10']).toBeGreaterThanOrEqual(0);
    expect(result.stdout).toContain('| served |');
    const report = JSON.parse(readFileSync(join(base, 'shop', 'reports', 'robust-shop.json'), 'utf8')) as { users: number };
    expect(report.users).toBeGreaterThan(10);
  }, 300_000);

  it('refuses data that cannot train a model with one clear line', () => {
    const file = join(base, 'one.json');
    writeFileSync(file, JSON.stringify({ items: [{ id: 'only', title: 'Only item' }], interactions: [{ userId: 'a', itemId: 'only', ts: Date.UTC(2024, 0, 1) }] }));
    const result = train(file, 'one');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/cannot train: .*item/);
    expect(result.stderr).not.toMatch(/Traceback/);
  }, 120_000);

  it('names the bad row of a malformed data file', () => {
    const file = join(base, 'bad.json');
    writeFileSync(file, JSON.stringify({ items: [{ id: 'a', title: 'A' }], interactions: [{ userId: 'u', itemId: 'missing', ts: 1 }] }));
    const result = train(file, 'bad');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('interactions.0: item missing is not in items');
  }, 60_000);
});
