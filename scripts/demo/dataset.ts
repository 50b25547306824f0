/**
 * `npm start -- --dataset ml-100k [--path DIR]`: the demo on a public data set instead of the generated shop,
 * through the same path a shop's own data takes — convert (batch/import/converters) → `npm run import` into the
 * demo's database → `npm run train` on that event store → the nightly from its users — so the widget shows real
 * movie titles. Everything lives under var/demo/<dataset>/ (PGlite database, model versions, reports); a second
 * start reuses it (delete the folder to start over). Training uses small, fast settings (2 epochs, dim 32, no
 * offline evaluation; a few minutes for MovieLens-100K on 2 cores) and needs PyTorch (apt-get install python3-torch libopenblas0).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DEMO_DATASETS = {
  // segment: one the converter writes (gender-age band), for the printed batch-export example.
  'ml-100k': { folder: 'ml-100k', marker: 'u.data', what: 'MovieLens-100K', users: ['mu1', 'mu2', 'mu3'], segment: 'M-25-34' },
  'ml-1m-pairs': { folder: 'movielens-1m-user-movie-pairs', marker: 'user_movie_pairs.tsv', what: 'the MovieLens-1M pairs', users: ['mu1', 'mu2', 'mu3'], segment: 'M-25-34' },
} as const;
export type DemoDataset = keyof typeof DEMO_DATASETS;

export interface PreparedDemo {
  /** Env for the origin (database, models folder, no generator seeding). */
  originEnv: Record<string, string>;
  /** Flags for the nightly (models folder, users from the demo's database). */
  nightlyArgs: string[];
  /** Shoppers to print signed-in demo links for. */
  users: readonly string[];
  /** A segment the data set has, for the batch-export example. */
  segment: string;
}

type Run = (name: string, script: string, args: string[], env?: Record<string, string>) => Promise<void>;

export function isDemoDataset(name: string): name is DemoDataset {
  return Object.hasOwn(DEMO_DATASETS, name);
}

/** Converts, imports and trains once (reused later); throws naming the path when the data set is absent. */
export async function prepareDemoDataset(root: string, name: DemoDataset, pathArg: string | undefined, run: Run, log: (line: string) => void): Promise<PreparedDemo> {
  const spec = DEMO_DATASETS[name];
  const path = resolve(pathArg ?? join(root, '..', 'shared', 'data', spec.folder));
  if (!existsSync(join(path, spec.marker))) {
    throw new Error(`${spec.what} not found at ${path} (no ${spec.marker} there): put the data set there or pass --path DIR`);
  }
  const work = join(root, 'var', 'demo', name);
  const artifacts = join(work, 'artifacts');
  const database: Record<string, string> = process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { PGLITE_DIR: join(work, 'pglite') };
  if (existsSync(join(artifacts, 'current.json'))) {
    log(`reusing ${work} (imported data and trained model; delete the folder to start over)`);
  } else {
    const rows = join(work, 'rows');
    log(`converting ${spec.what} from ${path}`);
    await run('convert', 'scripts/convert.ts', [name, '--path', path, '--out', rows]);
    log(`importing into ${database.DATABASE_URL ? 'Postgres' : `PGlite ${database.PGLITE_DIR}`}`);
    await run('import', 'scripts/import.ts', ['--items', join(rows, 'items.ndjson'), '--users', join(rows, 'users.ndjson'), '--events', join(rows, 'events.ndjson'), '--no-progress'], database);
    log('training on the imported events (small, fast settings: 2 epochs, dim 32, no offline evaluation)');
    await run('train', 'models/train.ts', ['--dataset', 'events', '--since', 'all', '--epochs', '2', '--dim', '32', '--skip-eval', '--out', artifacts, '--reports', join(work, 'reports'), '--work', join(work, 'train')], database);
  }
  const databaseFlag = database.DATABASE_URL ? ['--database-url', database.DATABASE_URL] : ['--pglite-dir', database.PGLITE_DIR ?? ''];
  return {
    originEnv: { ...database, MODELS_DIR: artifacts, SEED_CATALOG: 'false', SEED_HISTORIES: 'false' },
    nightlyArgs: ['--artifacts', artifacts, '--users', 'store', ...databaseFlag],
    users: spec.users,
    segment: spec.segment,
  };
}
