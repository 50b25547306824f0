/**
 * `npm run convert -- ml-100k|ml-1m-pairs [--path DIR] [--movies DIR] [--min-rating N] --out DIR`
 * Turns a public data set in ../shared/data into the import format (items.ndjson, users.ndjson,
 * events.ndjson in --out), ready for `npm run import`. Defaults: ../shared/data/ml-100k and
 * ../shared/data/movielens-1m-user-movie-pairs (titles from the sibling movielens-1m). docs/import-format.md.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ml100k } from '../batch/import/converters/ml-100k.ts';
import { ml1mPairs } from '../batch/import/converters/ml-1m-pairs.ts';
import { writeConverted } from '../batch/import/converters/write.ts';

const root = join(import.meta.dirname, '..');
const usage = 'usage: npm run convert -- ml-100k|ml-1m-pairs [--path DIR] [--movies DIR] [--min-rating N] --out DIR';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { path: { type: 'string' }, movies: { type: 'string' }, 'min-rating': { type: 'string' }, out: { type: 'string' } },
});

try {
  const [name] = positionals;
  if (!values.out) throw new Error(`--out DIR is required\n${usage}`);
  const started = Date.now();
  let dataset;
  if (name === 'ml-100k') {
    const minRating = values['min-rating'] === undefined ? 1 : Number(values['min-rating']);
    if (!Number.isInteger(minRating) || minRating < 1 || minRating > 5) throw new Error('--min-rating must be an integer 1–5');
    dataset = await ml100k(resolve(values.path ?? join(root, '..', 'shared', 'data', 'ml-100k')), { minRating });
  } else if (name === 'ml-1m-pairs') {
    const pairs = resolve(values.path ?? join(root, '..', 'shared', 'data', 'movielens-1m-user-movie-pairs'));
    dataset = await ml1mPairs({ pairs, ...(values.movies ? { movies: resolve(values.movies) } : {}) });
  } else {
    throw new Error(`unknown data set ${JSON.stringify(name ?? '')}\n${usage}`);
  }
  const counts = await writeConverted(dataset, resolve(values.out));
  console.log(JSON.stringify({ dataset: name, out: resolve(values.out), ...counts, seconds: (Date.now() - started) / 1000 }));
} catch (error) {
  process.stderr.write(`[convert] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
