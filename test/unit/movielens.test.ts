import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMovieLens1M } from '../../models/data/movielens-1m.ts';

describe('MovieLens-1M loader', () => {
  it('reads the three .dat files (Latin-1, "::" separated) into the dataset shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ml1m-'));
    const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
    await writeFile(join(dir, 'movies.dat'), latin1('1::Toy Story (1995)::Animation|Children\'s|Comedy\n2::Amélie (2001)::Comedy|Romance\n'));
    await writeFile(join(dir, 'users.dat'), latin1('1::F::1::10::48067\n2::M::25::16::70072\n'));
    await writeFile(join(dir, 'ratings.dat'), latin1('1::2::5::978300760\n1::1::3::978300700\n2::1::4::978300800\n'));
    const d = await loadMovieLens1M(dir).finally(() => rm(dir, { recursive: true, force: true }));
    expect(d.items.map((i) => [i.id, i.title, i.category, i.brand])).toEqual([
      ['m1', 'Toy Story (1995)', 'Animation', '1990s'],
      ['m2', 'Amélie (2001)', 'Comedy', '2000s'],
    ]);
    expect(d.users).toEqual([{ id: 'mu1', segment: 'F-under18' }, { id: 'mu2', segment: 'M-25-34' }]);
    expect(d.interactions.map((e) => [e.userId, e.itemId, e.ts])).toEqual([
      ['mu1', 'm1', 978300700000],
      ['mu1', 'm2', 978300760000],
      ['mu2', 'm1', 978300800000],
    ]);
  });
});
