/**
 * Loader for the MovieLens-1M files (ratings.dat, users.dat, movies.dat; '::'-separated, Latin-1).
 * Ratings become implicit 'view' interactions, as in the leave-one-out literature (every rated movie is a
 * positive). Movies map onto the shop's item shape: first genre → category, decade → brand.
 * Node-only (reads files); the edge never imports it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, Interaction, Item, User } from '../../shared/catalog/types.ts';

const AGE_GROUPS: Record<string, string> = {
  '1': 'under18', '18': '18-24', '25': '25-34', '35': '35-44', '45': '45-49', '50': '50-55', '56': '56plus',
};

async function readLines(path: string): Promise<string[]> {
  const text = new TextDecoder('latin1').decode(await readFile(path));
  return text.split('\n').filter((line) => line.trim().length > 0);
}

/** Reads MovieLens-1M from a folder holding ratings.dat, users.dat and movies.dat. */
export async function loadMovieLens1M(folder: string): Promise<Dataset> {
  const [movieLines, userLines, ratingLines] = await Promise.all([
    readLines(join(folder, 'movies.dat')),
    readLines(join(folder, 'users.dat')),
    readLines(join(folder, 'ratings.dat')),
  ]);
  const categories = new Set<string>();
  const brands = new Set<string>();
  const items: Item[] = movieLines.map((line) => {
    const [movieId = '', title = '', genres = ''] = line.split('::');
    const category = genres.split('|')[0] || 'Unknown';
    const year = /\((\d{4})\)\s*$/.exec(title)?.[1];
    const brand = year ? `${year.slice(0, 3)}0s` : 'unknown-decade';
    categories.add(category);
    brands.add(brand);
    return {
      id: `m${movieId}`,
      title: title.trim(),
      category,
      brand,
      price: 0,
      stock: 1,
      image: `/img/m${movieId}.svg`,
      createdAt: year ? Date.UTC(Number(year), 0, 1) : 0,
    };
  });
  const segments = new Set<string>();
  const users: User[] = userLines.map((line) => {
    const [userId = '', gender = 'U', age = ''] = line.split('::');
    const segment = `${gender}-${AGE_GROUPS[age] ?? 'unknown'}`;
    segments.add(segment);
    return { id: `mu${userId}`, segment };
  });
  const interactions: Interaction[] = ratingLines.map((line) => {
    const [userId = '', movieId = '', , seconds = '0'] = line.split('::');
    return {
      eventId: `ml-${userId}-${movieId}`,
      userId: `mu${userId}`,
      sessionId: `mu${userId}`,
      itemId: `m${movieId}`,
      type: 'view' as const,
      ts: Number(seconds) * 1000,
    };
  });
  interactions.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
  return {
    name: 'movielens-1m',
    items,
    users,
    interactions,
    segments: [...segments].sort(),
    categories: [...categories].sort(),
    brands: [...brands].sort(),
  };
}
