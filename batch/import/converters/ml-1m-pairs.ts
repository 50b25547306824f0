/**
 * MovieLens-1M pairs (../shared/data/movielens-1m-user-movie-pairs/user_movie_pairs.tsv: UserID<TAB>MovieID,
 * no ratings, no timestamps) + titles and genres from ../shared/data/movielens-1m/movies.dat and segments from
 * users.dat → import rows. The import format needs a time, so each pair gets a SYNTHETIC one: a fixed start
 * (2000-04-25, when ML-1M collection began) plus one second per row in file order. That order is the original
 * ratings.dat order (grouped by user), not time: results on this set are "ML-1M pairs, all ratings as positives,
 * random split" (see the data set's SOURCE.md), never comparable to time-ordered protocols.
 * Ids match the MovieLens-1M loader: movies `m<id>`, users `mu<id>`, events `ml1m-<user>-<movie>`.
 * Everything is streamed: memory stays flat in the pairs file's size.
 */
import { join } from 'node:path';
import { ageBand, movieItem, readLines, requireFile } from './lines.ts';
import type { ConvertedDataset } from './ml-100k.ts';

/** Where the synthetic clock of the pairs starts. */
export const ML1M_PAIRS_START = Date.UTC(2000, 3, 25);

/** users.dat age codes are the lower bounds of MovieLens' bands. */
const AGE_CODES: Record<string, number> = { '1': 1, '18': 18, '25': 25, '35': 35, '45': 45, '50': 50, '56': 56 };

export interface Ml1mPairsPaths {
  /** Folder with user_movie_pairs.tsv. */
  pairs: string;
  /** Folder with movies.dat and users.dat (default: the sibling `movielens-1m`). */
  movies?: string;
}

export async function ml1mPairs(paths: Ml1mPairsPaths): Promise<ConvertedDataset> {
  const pairsFile = join(paths.pairs, 'user_movie_pairs.tsv');
  const metaFolder = paths.movies ?? join(paths.pairs, '..', 'movielens-1m');
  const moviesFile = join(metaFolder, 'movies.dat');
  const usersFile = join(metaFolder, 'users.dat');
  await requireFile(pairsFile, 'MovieLens-1M pairs file user_movie_pairs.tsv');
  await requireFile(moviesFile, 'MovieLens-1M movies.dat');
  await requireFile(usersFile, 'MovieLens-1M users.dat');
  return {
    async *items() {
      for await (const line of readLines(moviesFile, 'latin1')) {
        const [id = '', rawTitle = '', genres = ''] = line.split('::');
        yield movieItem(id, rawTitle, genres.split('|').map((g) => g.trim()).filter(Boolean), ML1M_PAIRS_START);
      }
    },
    async *events() {
      let row = 0;
      for await (const line of readLines(pairsFile)) {
        const [user = '', movie = ''] = line.split('\t');
        yield { eventId: `ml1m-${user}-${movie.trim()}`, userId: `mu${user}`, itemId: `m${movie.trim()}`, type: 'view', ts: ML1M_PAIRS_START + row * 1000 };
        row++;
      }
    },
    async *users() {
      for await (const line of readLines(usersFile, 'latin1')) {
        const [id = '', gender = 'U', age = ''] = line.split('::');
        yield { id: `mu${id}`, segment: `${gender}-${ageBand(AGE_CODES[age] ?? Number.NaN)}` };
      }
    },
  };
}
