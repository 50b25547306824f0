/**
 * `npm run import` as a library: items, then users, then events from NDJSON/CSV files (read-rows.ts) into the
 * database, then the touched users' feature-store state rebuilt from the stored events (histories.ts).
 * Streamed in batches (memory grows with the batch and the number of distinct users, not the file), bad rows
 * reported with their line (skipped, or the import stops at the first one with --on-error fail: what came
 * before it is stored, and a re-run after the fix stores nothing twice because event ids are deterministic).
 */
import { stat } from 'node:fs/promises';
import type { ZodType } from 'zod';
import { EventRowSchema, itemFromRow, ItemRowSchema, userFromRow, UserRowSchema, type EventRow, type ItemRow, type UserRow } from '../../shared/contracts/import.ts';
import type { FeatureStore, RecordedInteraction } from '../../core/ports/feature-store.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { allItemIds, upsertItems, upsertUsers, type EventWriter, type ImportedEvent } from '../../adapters/postgres/import-repository.ts';
import { postgresErasureMarker } from '../../adapters/postgres/erasure-marker.ts';
import { withoutErased } from '../../core/erasure/marker.ts';
import { derivedEventId, SessionAssigner } from './event-ids.ts';
import { rebuildHistories } from './histories.ts';
import { readRows } from './read-rows.ts';

export type OnError = 'skip' | 'fail';

/** How a progress bar follows the import: one phase per file, advanced in bytes, then the feature store in users. */
export interface ImportProgress {
  phase(name: string, total: number, unit: 'bytes' | 'users'): void;
  advance(n: number, rows: number): void;
  end(): void;
}

export interface ImportOptions {
  items?: string | undefined;
  users?: string | undefined;
  events?: string | undefined;
  onError: OnError;
  database: DatabaseHandle;
  eventWriter: EventWriter;
  /** Absent: only the database is written (the origin's in-process store rebuilds from it at start). */
  featureStore?: FeatureStore | undefined;
  batchSize?: number;
  /** createdAt of items that carry none. */
  now?: number;
  progress?: ImportProgress;
  /** How many bad rows per file are kept in the summary (all are counted). */
  keepErrors?: number;
}

export interface RowError {
  line: number;
  reason: string;
}

export interface FileSummary {
  file: string;
  /** Wall time of this file's phase. */
  seconds: number;
  rows: number;
  rejected: number;
  errors: RowError[];
}

export interface ImportSummary {
  items?: FileSummary & { stored: number };
  /** `erased`: rows of users erased through DELETE /v1/users/:id, left out (an import never brings them back). */
  users?: FileSummary & { stored: number; erased: number };
  /** unknownItems: valid events naming an item the catalogue does not hold (stored, never recommended; often a typo'd id). */
  events?: FileSummary & { inserted: number; duplicates: number; unknownItems: number; erased: number };
  featureStore: { users: number; seconds: number } | 'skipped';
  seconds: number;
}

export class ImportRejectedError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ImportRejectedError';
    this.file = file;
    this.line = line;
  }
}

/** Reads one file in batches: valid rows go to `flush`, bad ones are counted, kept (up to keepErrors) or thrown. */
async function eachBatch<T>(file: string, schema: ZodType<T>, options: ImportOptions, flush: (rows: T[]) => Promise<void>): Promise<FileSummary> {
  const started = Date.now();
  const summary: FileSummary = { file, seconds: 0, rows: 0, rejected: 0, errors: [] };
  const size = (await stat(file).catch(() => undefined))?.size ?? 0;
  options.progress?.phase(file, size, 'bytes');
  let pendingBytes = 0;
  let batch: T[] = [];
  const batchSize = options.batchSize ?? 20_000;
  for await (const read of readRows(file, schema, (n) => (pendingBytes += n))) {
    summary.rows++;
    if (!read.ok) {
      if (options.onError === 'fail') {
        if (batch.length > 0) await flush(batch); // what came before the bad row is stored, as documented
        throw new ImportRejectedError(file, read.line, read.reason);
      }
      summary.rejected++;
      if (summary.errors.length < (options.keepErrors ?? 100)) summary.errors.push({ line: read.line, reason: read.reason });
      continue;
    }
    batch.push(read.row);
    if (batch.length >= batchSize) {
      await flush(batch);
      options.progress?.advance(pendingBytes, batch.length);
      pendingBytes = 0;
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
  options.progress?.advance(pendingBytes, batch.length);
  options.progress?.end();
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

export async function runImport(options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const now = options.now ?? Date.now();
  const db = await options.database.get();
  const result: ImportSummary = { featureStore: 'skipped', seconds: 0 };

  if (options.items) {
    let stored = 0;
    const summary = await eachBatch<ItemRow>(options.items, ItemRowSchema, options, async (rows) => {
      stored += await upsertItems(db, rows.map((row) => itemFromRow(row, now)));
    });
    result.items = { ...summary, stored };
  }
  // Users whose feature-store state is rebuilt at the end: those with imported events, and those whose segment changed.
  const touched = new Set<string>();
  // Erased users stay erased: the marker (user_deletions) is asked for every batch.
  const marker = postgresErasureMarker(options.database);
  if (options.users) {
    let stored = 0;
    let erased = 0;
    const summary = await eachBatch<UserRow>(options.users, UserRowSchema, options, async (all) => {
      const rows = await withoutErased(marker, all, (row) => row.id);
      erased += all.length - rows.length;
      if (rows.length === 0) return;
      stored += await upsertUsers(db, rows.map(userFromRow));
      for (const row of rows) touched.add(row.id);
    });
    result.users = { ...summary, stored, erased };
  }
  if (options.events) {
    const sessions = new SessionAssigner();
    let inserted = 0;
    let valid = 0;
    let unknownItems = 0;
    let erased = 0;
    const known = new Set(await allItemIds(db));
    const summary = await eachBatch<EventRow>(options.events, EventRowSchema, options, async (all) => {
      const rows = await withoutErased(marker, all, (row) => row.userId);
      erased += all.length - rows.length;
      if (rows.length === 0) return;
      valid += rows.length;
      for (const row of rows) if (!known.has(row.itemId)) unknownItems++;
      const batch: ImportedEvent[] = rows.map((row) => {
        touched.add(row.userId);
        return {
          eventId: row.eventId ?? derivedEventId(row),
          type: row.type,
          itemId: row.itemId,
          userId: row.userId,
          sessionId: row.sessionId ?? sessions.sessionOf(row.userId, row.ts),
          ts: row.ts,
          value: row.value ?? null,
        };
      });
      const written = await options.eventWriter.write(batch);
      inserted += written.inserted;
      // Item counters (exploration's impressions/clicks) take the newly stored events only, so a re-run adds nothing.
      if (options.featureStore && written.counters.length > 0) {
        const bumps: RecordedInteraction[] = [];
        for (const c of written.counters) for (let i = 0; i < c.n; i++) bumps.push({ sessionId: 'import', itemId: c.itemId, type: c.type, ts: now });
        try {
          await options.featureStore.recordMany(bumps);
        } catch (error) {
          throw new Error(`feature store update failed (${error instanceof Error ? error.message : String(error)}): the events read so far are stored, but ${bumps.length} impression/click counts of this batch are not; re-run the same import when it is back to store the rest and rebuild the histories`, { cause: error });
        }
      }
    });
    result.events = { ...summary, inserted, duplicates: valid - inserted, unknownItems, erased };
  }
  if (options.featureStore && touched.size > 0) {
    options.progress?.phase('feature store', touched.size, 'users');
    const rebuildStarted = Date.now();
    let users: number;
    try {
      users = await rebuildHistories(options.database, options.featureStore, touched, (n) => options.progress?.advance(n, n));
    } catch (error) {
      throw new Error(`feature store update failed (${error instanceof Error ? error.message : String(error)}): the rows are stored; re-run the same import when it is back (nothing is stored twice, histories and segments are rebuilt)`, { cause: error });
    } finally {
      options.progress?.end();
    }
    result.featureStore = { users, seconds: (Date.now() - rebuildStarted) / 1000 };
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
