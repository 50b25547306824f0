/**
 * MovieLens-1M path, on a small file set written here in the real ML-1M format (the dataset itself is not on
 * this machine): loader → leave-one-out split → prepare → PyTorch → ONNX → full-ranking evaluation.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMovieLens1M } from '../../models/data/movielens-1m.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { ModelManifestSchema, ModelPointerSchema } from '../../shared/contracts/manifest.ts';
import { createRng } from '../../shared/util/rng.ts';
import { leaveOneOut } from '../../models/prepare/split.ts';
import { root } from './support.ts';

const GENRES = ['Action', 'Comedy', 'Drama', 'Horror', 'Romance', 'Sci-Fi'];
const MOVIES = 90;
const USERS = 60;

/** Users who like two genres rate 12–30 movies, mostly from those genres; timestamps have ties on purpose. */
function writeMovieLens(dir: string): void {
  const rng = createRng(7);
  const movies = Array.from({ length: MOVIES }, (_, m) => `${m + 1}::Movie ${m + 1} (${1950 + (m % 50)})::${GENRES[m % GENRES.length]}|${GENRES[(m + 2) % GENRES.length]}`);
  const users = Array.from({ length: USERS }, (_, u) => `${u + 1}::${u % 2 ? 'M' : 'F'}::${['1', '18', '25', '35'][u % 4]}::${u % 21}::00000`);
  const ratings: string[] = [];
  for (let u = 1; u <= USERS; u++) {
    const liked = [u % GENRES.length, (u * 5) % GENRES.length];
    const rated = new Set<number>();
    const count = 12 + rng.int(19);
    let ts = 978_000_000 + rng.int(1_000_000);
    while (rated.size < count) {
      const m = rng.next() < 0.8 ? liked[rng.int(2)]! + GENRES.length * rng.int(MOVIES / GENRES.length) : rng.int(MOVIES);
      if (rated.has(m)) continue;
      rated.add(m);
      ratings.push(`${u}::${m + 1}::${1 + rng.int(5)}::${ts}`);
      if (rng.next() < 0.7) ts += 1 + rng.int(600); // else: same second as the previous rating (a tie)
    }
  }
  const latin1 = (lines: string[]): Buffer => Buffer.from(lines.join('\n') + '\n', 'latin1');
  writeFileSync(join(dir, 'movies.dat'), latin1(movies));
  writeFileSync(join(dir, 'users.dat'), latin1(users));
  writeFileSync(join(dir, 'ratings.dat'), latin1(ratings));
}

describe('MovieLens-1M leave-one-out protocol', () => {
  const base = mkdtempSync(join(tmpdir(), 'reco-ml-'));
  const dataDir = join(base, 'ml-1m');
  let dataset: Dataset;
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  beforeAll(async () => {
    spawnSync('mkdir', ['-p', dataDir]);
    writeMovieLens(dataDir);
    dataset = await loadMovieLens1M(dataDir);
  });

  it('holds out exactly each user\'s latest rating and trains on all the others', () => {
    const split = leaveOneOut(dataset.interactions);
    expect(split.train.length + split.test.length).toBe(dataset.interactions.length);
    const testByUser = new Map(split.test.map((e) => [e.userId, e]));
    expect(testByUser.size).toBe(split.test.length); // one per user
    expect(testByUser.size).toBe(USERS);
    const trainIds = new Set(split.train.map((e) => e.eventId));
    for (const held of split.test) {
      expect(trainIds.has(held.eventId)).toBe(false);
      const own = dataset.interactions.filter((e) => e.userId === held.userId);
      // Latest in time; among same-second ties, the last one in the loader's (time, id) order.
      expect(held.ts).toBe(Math.max(...own.map((e) => e.ts)));
      expect(own.at(-1)?.eventId).toBe(held.eventId);
    }
  });

  it('npm run train --dataset movielens evaluates every user by full ranking, writes a valid manifest and publishes it', () => {
    const out = join(base, 'artifacts');
    const reports = join(base, 'reports');
    const result = spawnSync(process.execPath, [join(root, 'models', 'train.ts'), '--dataset', 'movielens', '--movielens-path', dataDir,
      '--epochs', '1', '--dim', '16', '--item-embeddings', 'int8', '--out', out, '--reports', reports, '--work', join(base, 'work')], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    // Published: current.json names the new version (written via rename, so no temp file is left behind).
    const { version } = ModelPointerSchema.parse(JSON.parse(readFileSync(join(out, 'current.json'), 'utf8')));
    expect(readdirSync(out).sort()).toEqual(['current.json', version].sort());
    const manifest = ModelManifestSchema.parse(JSON.parse(readFileSync(join(out, version, 'manifest.json'), 'utf8')));
    expect(manifest.dataset).toBe('movielens-1m');
    expect(manifest.itemCount).toBe(MOVIES);
    expect(manifest.training?.['protocol']).toBe('leave-one-out');
    // int8 embeddings: one byte per value plus the scale the origin multiplies by.
    expect(manifest.itemEmbeddingsDtype).toBe('int8');
    expect(manifest.itemEmbeddingsScale).toBeGreaterThan(0);
    expect(statSync(join(out, version, manifest.files.itemEmbeddings)).size).toBe(MOVIES * 16);

    const report = JSON.parse(readFileSync(join(reports, 'movielens-1m.json'), 'utf8')) as {
      protocol: string; users: number; results: Record<string, Record<string, number>>;
    };
    expect(report.protocol).toBe('leave-one-out');
    expect(report.users).toBe(USERS); // every user has ≥ 12 ratings, so every user is evaluated
    expect(Object.keys(report.results)).toEqual(['popularity', 'item-knn', 'ease', 'two-tower', 'item-to-item', 'retrieval+ranker', 'served']);
    for (const [system, m] of Object.entries(report.results)) {
      for (const value of Object.values(m)) expect(value, system).toBeGreaterThanOrEqual(0);
      for (const value of Object.values(m)) expect(value, system).toBeLessThanOrEqual(1);
      // One relevant item per user: AP@K is 1/rank, the same as RR@K, and NDCG ≤ Recall (= HitRate).
      expect(m['map']).toBeCloseTo(m['mrr'] ?? NaN, 10);
      expect(m['ndcg']).toBeLessThanOrEqual((m['recall'] ?? 0) + 1e-12);
    }
    // Full ranking over 90 items with ~20 seen per user: popularity's HitRate@10 is far from 0 and from 1.
    expect(report.results['popularity']?.['recall']).toBeGreaterThan(0);
    expect(report.results['popularity']?.['recall']).toBeLessThan(1);
    expect(readFileSync(join(reports, 'movielens-1m.html'), 'utf8')).toContain('<svg');
  }, 240_000);
});
