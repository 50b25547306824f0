/**
 * Data-set converters: small MovieLens-format fixtures written here (nothing from ../shared/data is ever
 * committed) go through the real converters and the real `npm run convert` CLI; every row they produce must
 * pass the import schema. When ../shared/data is on the machine, the real files are converted too.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRowSchema, ItemRowSchema, UserRowSchema } from '../../shared/contracts/import.ts';
import { ml100k } from '../../batch/import/converters/ml-100k.ts';
import { ML1M_PAIRS_START, ml1mPairs } from '../../batch/import/converters/ml-1m-pairs.ts';
import { DatasetMissingError } from '../../batch/import/converters/lines.ts';
import { root, spawnScript, tempDir } from '../nightly/helpers.ts';

let dir = '';
const GENRES = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];
const flags = (...on: string[]): string => GENRES.map((g) => (on.includes(g) ? '1' : '0')).join('|');

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

beforeAll(async () => {
  dir = await tempDir('converters');
  const ml = join(dir, 'ml-100k');
  await mkdir(ml);
  // u.data is not in time order; user 2 rates movie 1 first, then 3 and 2.
  await writeFile(join(ml, 'u.data'), ['1\t2\t5\t881250949', '2\t1\t3\t875000000', '1\t1\t2\t881250000', '2\t3\t4\t875000100', '2\t2\t1\t876000000'].join('\n') + '\n');
  await writeFile(join(ml, 'u.genre'), GENRES.map((g, i) => `${g}|${i}`).join('\n') + '\n\n');
  await writeFile(join(ml, 'u.item'), Buffer.from([
    `1|Toy Story (1995)|01-Jan-1995||http://x|${flags('Animation', "Children's", 'Comedy')}`,
    `2|GoldenEye (1995)|01-Jan-1995||http://x|${flags('Action', 'Adventure', 'Thriller')}`,
    `3|Café au lait (1994)|01-Jan-1994||http://x|${flags('unknown')}`,
  ].join('\n') + '\n', 'latin1'));
  await writeFile(join(ml, 'u.user'), '1|24|M|technician|85711\n2|53|F|other|94043\n');
  const pairs = join(dir, 'movielens-1m-user-movie-pairs');
  const meta = join(dir, 'movielens-1m');
  await mkdir(pairs);
  await mkdir(meta);
  await writeFile(join(pairs, 'user_movie_pairs.tsv'), '1\t1193\n1\t661\n2\t1193\n');
  await writeFile(join(meta, 'movies.dat'), Buffer.from("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n", 'latin1'));
  await writeFile(join(meta, 'users.dat'), '1::F::1::10::48067\n2::M::56::16::70072\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('MovieLens-100K converter', () => {
  it('turns ratings into view events in time order, with real titles and genres', async () => {
    const data = await ml100k(join(dir, 'ml-100k'));
    const events = await collect(data.events());
    expect(events.map((e) => e.ts)).toEqual([875000000000, 875000100000, 876000000000, 881250000000, 881250949000]);
    expect(events[0]).toEqual({ eventId: 'ml100k-2-1', userId: 'mu2', itemId: 'm1', type: 'view', ts: 875000000000 });
    const items = await collect(data.items());
    expect(items[0]).toMatchObject({ id: 'm1', title: 'Toy Story (1995)', category: 'Animation', brand: '1990s', tags: ['Animation', "Children's", 'Comedy'], createdAt: 875000000000 });
    expect(items[1]).toMatchObject({ id: 'm2', title: 'GoldenEye (1995)', category: 'Action', createdAt: 876000000000 });
    // "unknown" is not a category: the item simply has none; Latin-1 titles decode.
    expect(items[2]).toMatchObject({ id: 'm3', title: 'Café au lait (1994)' });
    expect(items[2]).not.toHaveProperty('category');
    expect(await collect(data.users())).toEqual([{ id: 'mu1', segment: 'M-18-24' }, { id: 'mu2', segment: 'F-50-55' }]);
    for (const row of items) expect(ItemRowSchema.safeParse(row).success).toBe(true);
    for (const row of events) expect(EventRowSchema.safeParse(row).success).toBe(true);
  });

  it('keeps only ratings at or above --min-rating', async () => {
    const events = await collect((await ml100k(join(dir, 'ml-100k'), { minRating: 4 })).events());
    expect(events.map((e) => e.eventId)).toEqual(['ml100k-2-3', 'ml100k-1-2']);
  });

  it('names the missing path', async () => {
    const missing = join(dir, 'nope');
    await expect(ml100k(missing)).rejects.toThrow(DatasetMissingError);
    await expect(ml100k(missing)).rejects.toThrow(join(missing, 'u.data'));
  });
});

describe('MovieLens-1M pairs converter', () => {
  it('gives each pair a synthetic time in file order and the movies their titles', async () => {
    const data = await ml1mPairs({ pairs: join(dir, 'movielens-1m-user-movie-pairs') });
    const events = await collect(data.events());
    expect(events).toEqual([
      { eventId: 'ml1m-1-1193', userId: 'mu1', itemId: 'm1193', type: 'view', ts: ML1M_PAIRS_START },
      { eventId: 'ml1m-1-661', userId: 'mu1', itemId: 'm661', type: 'view', ts: ML1M_PAIRS_START + 1000 },
      { eventId: 'ml1m-2-1193', userId: 'mu2', itemId: 'm1193', type: 'view', ts: ML1M_PAIRS_START + 2000 },
    ]);
    const items = await collect(data.items());
    expect(items[1]).toMatchObject({ id: 'm661', title: 'James and the Giant Peach (1996)', category: 'Animation', brand: '1990s' });
    expect(await collect(data.users())).toEqual([{ id: 'mu1', segment: 'F-under18' }, { id: 'mu2', segment: 'M-56plus' }]);
    for (const row of events) expect(EventRowSchema.safeParse(row).success).toBe(true);
  });

  it('names the missing movies file', async () => {
    await expect(ml1mPairs({ pairs: join(dir, 'movielens-1m-user-movie-pairs'), movies: join(dir, 'ml-100k') })).rejects.toThrow(join(dir, 'ml-100k', 'movies.dat'));
  });
});

describe('npm run convert', () => {
  it('writes items, users and events NDJSON that the import schema accepts', async () => {
    const out = join(dir, 'out');
    const run = await spawnScript('scripts/convert.ts', ['ml-100k', '--path', join(dir, 'ml-100k'), '--out', out]).done;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dataset: 'ml-100k', items: 3, users: 2, events: 5 });
    const lines = (await readFile(join(out, 'events.ndjson'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => EventRowSchema.parse(JSON.parse(l)).eventId)).toEqual(['ml100k-2-1', 'ml100k-2-3', 'ml100k-2-2', 'ml100k-1-1', 'ml100k-1-2']);
    const users = (await readFile(join(out, 'users.ndjson'), 'utf8')).trim().split('\n');
    expect(users.map((l) => UserRowSchema.parse(JSON.parse(l)).id)).toEqual(['mu1', 'mu2']);
  });

  it('fails with the path when the data set is absent', async () => {
    const run = await spawnScript('scripts/convert.ts', ['ml-1m-pairs', '--path', join(dir, 'absent'), '--out', join(dir, 'out2')]).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(dir, 'absent', 'user_movie_pairs.tsv'));
  });

  // The real files are never committed: on a machine without ../shared/data this checks the refusal instead
  // (never a skip), elsewhere the whole data set.
  it('converts the real MovieLens-100K (../shared/data) where it is present, else names its path', async () => {
    const real = join(root, '..', 'shared', 'data', 'ml-100k');
    if (!existsSync(join(real, 'u.data'))) {
      await expect(ml100k(real)).rejects.toThrow(join(real, 'u.data'));
      return;
    }
    const data = await ml100k(real);
    let count = 0;
    let last = 0;
    for await (const event of data.events()) {
      expect(event.ts).toBeGreaterThanOrEqual(last);
      last = event.ts;
      count++;
    }
    expect(count).toBe(100_000);
    const items = await collect(data.items());
    expect(items).toHaveLength(1682);
    expect(items[0]).toMatchObject({ id: 'm1', title: 'Toy Story (1995)', category: 'Animation' });
    for (const row of items) expect(ItemRowSchema.safeParse(row).success).toBe(true);
  });
});
