/**
 * Where training data comes from — one module, one Dataset shape for models/prepare:
 *   events       (default) the event store: catalogue, users and events from the configured database
 *                (DATABASE_URL, else PGlite in PGLITE_DIR / var/pglite), within a time window (--since 90d);
 *   generated    the built-in demo shop (a seed for the demo, not a shop's data);
 *   ml-100k      MovieLens-100K through the import converter (batch/import/converters), i.e. import rows;
 *   ml-1m-pairs  the MovieLens-1M user–movie pairs through its converter;
 *   movielens    the MovieLens-1M ratings folder (legacy loader, kept for the published-results comparison).
 * Too little data is a clear error (NotEnoughEventsError) naming the source, the window and the counts.
 */
import { join } from 'node:path';
import { generateDataset } from '../../shared/catalog/generator.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { entersHistory } from '../../shared/features/history.ts';
import { openDatabase, type DatabaseOptions } from '../../adapters/postgres/database.ts';
import { readTrainingRows } from '../../adapters/postgres/training-reader.ts';
import { loadMovieLens1M } from './movielens-1m.ts';
import { datasetFromRows, datasetOf, type RowStreams } from './rows.ts';
import { ml100k } from '../../batch/import/converters/ml-100k.ts';
import { ml1mPairs } from '../../batch/import/converters/ml-1m-pairs.ts';

export const DATASET_KINDS = ['events', 'generated', 'ml-100k', 'ml-1m-pairs', 'movielens'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export type DatasetSource =
  | { kind: 'events'; database: DatabaseOptions & { describe: string }; sinceMs: number; untilMs?: number }
  | { kind: 'generated'; items: number; users: number }
  | { kind: 'ml-100k' | 'ml-1m-pairs' | 'movielens'; path: string };

/** At least this many positive events on catalogue items, from at least MIN_TRAINING_USERS users. */
export const MIN_TRAINING_EVENTS = 50;
export const MIN_TRAINING_USERS = 5;

export class NotEnoughEventsError extends Error {
  constructor(where: string, positives: number, usersWithEvents: number) {
    super(
      `too few events to train on ${where}: ${positives} positive events (view, add_to_cart, purchase) from ${usersWithEvents} users; ` +
        `need at least ${MIN_TRAINING_EVENTS} from ${MIN_TRAINING_USERS} users. Import history (npm run import -- --events FILE), ` +
        `widen the window (--since), or train the demo shop (--dataset generated)`,
    );
    this.name = 'NotEnoughEventsError';
  }
}

/** '90d', '12h', '30m' → milliseconds; 'all' → Infinity. */
export function parseWindow(text: string): number {
  if (text === 'all') return Infinity;
  const match = /^(\d+)\s*(d|h|m)$/.exec(text.trim());
  if (!match) throw new Error(`--since ${text}: expected a duration like 90d, 12h, 30m, or 'all'`);
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
}

/** Epoch ms or an ISO-8601 time → epoch ms. */
export function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`${text}: expected epoch milliseconds or an ISO-8601 time`);
  return ms;
}

/** Default data-set folders under ../shared/data (next to the repository). */
export function defaultDatasetPath(kind: 'ml-100k' | 'ml-1m-pairs' | 'movielens', repositoryRoot: string): string {
  const data = join(repositoryRoot, '..', 'shared', 'data');
  return join(data, { 'ml-100k': 'ml-100k', 'ml-1m-pairs': 'movielens-1m-user-movie-pairs', movielens: 'movielens-1m' }[kind]);
}

export async function loadDataset(source: DatasetSource): Promise<Dataset> {
  switch (source.kind) {
    case 'generated':
      return generateDataset({ items: source.items, users: source.users });
    case 'movielens':
      return loadMovieLens1M(source.path);
    case 'ml-100k':
    case 'ml-1m-pairs':
      return checked((await datasetFromRows(source.kind, await converterRows(source.kind, source.path))).dataset, `${source.kind} at ${source.path}`);
    case 'events':
      return loadEventStore(source.database, source.sinceMs, source.untilMs);
  }
}

async function loadEventStore(options: DatabaseOptions & { describe: string }, windowMs: number, untilMs = Date.now() + 86_400_000): Promise<Dataset> {
  const database = await openDatabase(options);
  try {
    const sinceMs = Number.isFinite(windowMs) ? Math.min(Date.now(), untilMs) - windowMs : 0;
    const rows = await readTrainingRows(await database.get(), sinceMs, untilMs);
    const { dataset } = datasetOf('events', rows.items, rows.users, rows.interactions);
    const where = `${options.describe}${Number.isFinite(windowMs) ? ` since ${new Date(sinceMs).toISOString()}` : ''} (${rows.items.length} items in the catalogue)`;
    return checked(dataset, where);
  } finally {
    await database.close();
  }
}

function checked(dataset: Dataset, where: string): Dataset {
  const users = new Set<string>();
  let positives = 0;
  for (const e of dataset.interactions) {
    if (!entersHistory(e.type)) continue;
    positives++;
    users.add(e.userId);
  }
  if (positives < MIN_TRAINING_EVENTS || users.size < MIN_TRAINING_USERS) throw new NotEnoughEventsError(where, positives, users.size);
  return dataset;
}

/** The import converters (batch/import/converters/): the rows `npm run convert` writes for `npm run import`. */
async function converterRows(kind: 'ml-100k' | 'ml-1m-pairs', path: string): Promise<RowStreams> {
  return kind === 'ml-100k' ? ml100k(path) : ml1mPairs({ pairs: path });
}
