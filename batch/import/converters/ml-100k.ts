/**
 * MovieLens-100K (../shared/data/ml-100k) → import rows. Every rating in u.data becomes a `view` event at its
 * own timestamp (every rated movie is a positive, as in the implicit-feedback literature; --min-rating keeps
 * only ratings at or above a threshold); u.item gives items with their real titles, the first genre as
 * category, all genres as tags and the release decade as brand; u.user gives users with a gender-age segment.
 * Ids: movies `m<id>`, users `mu<id>`, events `ml100k-<user>-<movie>` (MovieLens has one rating per pair),
 * the same item and user ids as the MovieLens-1M loader. Events come out in time order (u.data is not), so
 * histories built from them in file order are right; 100,000 rows are sorted in memory, the files streamed.
 */
import { join } from 'node:path';
import type { EventRow, ItemRow, UserRow } from '../../../shared/contracts/import.ts';
import { ageBand, movieItem, readLines, requireFile } from './lines.ts';

export interface Ml100kOptions {
  /** Keep only ratings ≥ this (1–5); default 1 = every rating. */
  minRating?: number;
}

export interface ConvertedDataset {
  items(): AsyncIterable<ItemRow>;
  events(): AsyncIterable<EventRow>;
  users(): AsyncIterable<UserRow>;
}

/** Fails with a DatasetMissingError naming the first missing file. */
export async function ml100k(folder: string, options: Ml100kOptions = {}): Promise<ConvertedDataset> {
  const files = { data: join(folder, 'u.data'), item: join(folder, 'u.item'), genre: join(folder, 'u.genre'), user: join(folder, 'u.user') };
  for (const [name, path] of Object.entries(files)) await requireFile(path, `MovieLens-100K u.${name}`);
  const minRating = options.minRating ?? 1;

  const ratings = async (): Promise<{ user: string; movie: string; ts: number }[]> => {
    const rows: { user: string; movie: string; ts: number }[] = [];
    for await (const line of readLines(files.data)) {
      const [user = '', movie = '', rating = '0', seconds = ''] = line.split('\t');
      if (Number(rating) >= minRating) rows.push({ user, movie, ts: Number(seconds) * 1000 });
    }
    return rows.sort((a, b) => a.ts - b.ts || Number(a.user) - Number(b.user) || Number(a.movie) - Number(b.movie));
  };

  return {
    async *items() {
      const genres: string[] = [];
      for await (const line of readLines(files.genre)) {
        const [name = '', index = ''] = line.split('|');
        genres[Number(index)] = name;
      }
      // An item "entered the catalogue" when it was first rated (release dates go back to the 1920s).
      const firstSeen = new Map<string, number>();
      for (const r of await ratings()) if (!firstSeen.has(r.movie)) firstSeen.set(r.movie, r.ts);
      // u.item is Latin-1 like the rest of the MovieLens files (a few titles carry accents).
      for await (const line of readLines(files.item, 'latin1')) {
        const cells = line.split('|');
        const [id = '', rawTitle = ''] = cells;
        const flags = cells.slice(5);
        yield movieItem(id, rawTitle, genres.filter((g, i) => flags[i] === '1' && g !== 'unknown'), firstSeen.get(id));
      }
    },
    async *events() {
      for (const r of await ratings()) yield { eventId: `ml100k-${r.user}-${r.movie}`, userId: `mu${r.user}`, itemId: `m${r.movie}`, type: 'view', ts: r.ts };
    },
    async *users() {
      for await (const line of readLines(files.user)) {
        const [id = '', age = '', gender = 'U'] = line.split('|');
        yield { id: `mu${id}`, segment: `${gender}-${ageBand(Number(age))}` };
      }
    },
  };
}
