/**
 * Loaders for the two real data sets in ../shared/data (never committed): MovieLens-100K (u.data with
 * timestamps, u.item titles and genre flags) and the MovieLens-1M user–movie pairs (no ratings, no
 * timestamps; titles and genres from movielens-1m/movies.dat when present). Every rating is an implicit
 * 'view'; first genre → category, release decade → brand; one session per user (no session ids exist).
 * Node-only (reads files).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, Interaction, Item, User } from '../../shared/catalog/types.ts';
import { createRng } from '../../shared/util/rng.ts';

const ML100K_GENRES = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];

async function lines(path: string): Promise<string[]> {
  if (!existsSync(path)) throw new Error(`data file not found: ${path}`);
  return new TextDecoder('latin1').decode(await readFile(path)).split('\n').filter((l) => l.trim().length > 0);
}

function decade(year: string | undefined): string {
  return year ? `${year.slice(0, 3)}0s` : 'unknown-decade';
}

function dataset(name: string, items: Item[], interactions: Interaction[]): Dataset {
  const userIds = [...new Set(interactions.map((e) => e.userId))];
  const users: User[] = userIds.map((id) => ({ id, segment: 'all' }));
  return {
    name,
    items,
    users,
    interactions,
    segments: ['all'],
    categories: [...new Set(items.map((i) => i.category))].sort(),
    brands: [...new Set(items.map((i) => i.brand))].sort(),
  };
}

/** MovieLens-100K from a folder holding u.data and u.item; interactions in time order (ties by user, item). */
export async function loadMovieLens100K(folder: string): Promise<Dataset> {
  const items: Item[] = (await lines(join(folder, 'u.item'))).map((line) => {
    const f = line.split('|');
    const flags = f.slice(5).map((v) => v.trim() === '1');
    const genre = ML100K_GENRES[flags.indexOf(true)] ?? 'unknown';
    const year = /(\d{4})/.exec(f[2] ?? '')?.[1];
    return { id: `m${f[0]}`, title: (f[1] ?? '').trim() || `movie ${f[0]}`, category: genre, brand: decade(year), price: 0, stock: 1,
      image: `/img/m${f[0]}.svg`, createdAt: year ? Date.UTC(Number(year), 0, 1) : 0 };
  });
  const interactions: Interaction[] = (await lines(join(folder, 'u.data'))).map((line) => {
    const [user = '', movie = '', , seconds = '0'] = line.split('\t');
    return { eventId: `ml100k-${user}-${movie}`, userId: `u${user}`, sessionId: `u${user}`, itemId: `m${movie}`, type: 'view' as const, ts: Number(seconds) * 1000 };
  });
  interactions.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
  return dataset('ml-100k', items, interactions);
}

/**
 * MovieLens-1M pairs (user_movie_pairs.tsv: "user<TAB>movie"). Without timestamps the order inside a user is
 * meaningless, so it is shuffled with `seed` and given synthetic increasing timestamps; the split is random.
 */
export async function loadMovieLens1MPairs(folder: string, moviesFile: string | undefined, seed = 1): Promise<Dataset> {
  const byUser = new Map<string, string[]>();
  for (const line of await lines(join(folder, 'user_movie_pairs.tsv'))) {
    const [user = '', movie = ''] = line.split('\t').map((s) => s.trim());
    if (!user || !movie || !/^\d+$/.test(user)) continue;
    const list = byUser.get(user);
    if (list) list.push(movie);
    else byUser.set(user, [movie]);
  }
  const titles = new Map<string, { title: string; genre: string; year: string | undefined }>();
  if (moviesFile && existsSync(moviesFile)) {
    for (const line of await lines(moviesFile)) {
      const [id = '', title = '', genres = ''] = line.split('::');
      titles.set(id, { title: title.trim(), genre: genres.split('|')[0] || 'unknown', year: /\((\d{4})\)\s*$/.exec(title)?.[1] });
    }
  }
  const movieIds = [...new Set([...byUser.values()].flat())].sort((a, b) => Number(a) - Number(b));
  const items: Item[] = movieIds.map((id) => {
    const t = titles.get(id);
    return { id: `m${id}`, title: t?.title || `movie ${id}`, category: t?.genre ?? 'unknown', brand: decade(t?.year), price: 0, stock: 1,
      image: `/img/m${id}.svg`, createdAt: 0 };
  });
  const rng = createRng(seed);
  const interactions: Interaction[] = [];
  let ts = 1;
  for (const [user, movies] of byUser) {
    const order = [...movies];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const movie of order) interactions.push({ eventId: `ml1m-${user}-${movie}`, userId: `u${user}`, sessionId: `u${user}`, itemId: `m${movie}`, type: 'view', ts: ts++ });
  }
  return dataset('ml-1m-pairs', items, interactions);
}
