/**
 * The fast path of `npm run import`: each batch is streamed with COPY into a session-private staging table,
 * then moved with one INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING, so re-running an import still stores
 * nothing twice. On a Postgres server through pg-copy-streams on one dedicated connection; on PGlite through its
 * COPY … FROM '/dev/blob' (same SQL, in-process). Both return the inserted count and the item counters.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseHandle } from './database.ts';
import type { EventBatchResult, EventWriter, ImportedEvent } from './import-repository.ts';

const COLUMNS = 'event_id, type, item_id, user_id, session_id, ts, value';
const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS import_events_staging (event_id text, type text, item_id text, user_id text, session_id text, ts bigint, value double precision)`;
const MOVE = `WITH ins AS (INSERT INTO events (${COLUMNS}) SELECT ${COLUMNS} FROM import_events_staging ON CONFLICT (event_id) DO NOTHING RETURNING item_id, type)
  SELECT item_id, type, count(*)::int AS n FROM ins WHERE type IN ('impression', 'click') GROUP BY item_id, type
  UNION ALL SELECT '', 'total', count(*)::int FROM ins`;

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function cell(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}

function* copyChunks(batch: readonly ImportedEvent[], perChunk = 2000): Generator<string> {
  for (let i = 0; i < batch.length; i += perChunk) {
    let text = '';
    for (const e of batch.slice(i, i + perChunk)) text += `${cell(e.eventId)}\t${cell(e.type)}\t${cell(e.itemId)}\t${cell(e.userId)}\t${cell(e.sessionId)}\t${e.ts}\t${cell(e.value)}\n`;
    yield text;
  }
}

function resultOf(rows: readonly { item_id: string; type: string; n: number }[]): EventBatchResult {
  let inserted = 0;
  const counters: EventBatchResult['counters'] = [];
  for (const row of rows) {
    if (row.type === 'total') inserted = Number(row.n);
    else if (row.type === 'impression' || row.type === 'click') counters.push({ itemId: row.item_id, type: row.type, n: Number(row.n) });
  }
  return { inserted, counters };
}

/** Postgres server: opens its own connection and staging table; the events table must exist (migrations first). */
export async function copyEventWriter(url: string): Promise<EventWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('error', () => undefined); // surfaced by the next query
  await client.query(CREATE_STAGING);
  return {
    async write(batch) {
      await client.query('BEGIN');
      try {
        await pipeline(Readable.from(copyChunks(batch)), client.query(copyFrom(`COPY import_events_staging (${COLUMNS}) FROM STDIN`)));
        const result = await client.query<{ item_id: string; type: string; n: number }>(MOVE);
        await client.query('TRUNCATE import_events_staging');
        await client.query('COMMIT');
        return resultOf(result.rows);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}

/** PGlite: the same staging and move through its single in-process connection; undefined when the handle is not PGlite. */
export async function pgliteCopyEventWriter(database: DatabaseHandle): Promise<EventWriter | undefined> {
  const copyIn = database.copyFromBlob;
  if (!copyIn) return undefined;
  const db = await database.get();
  await db.execute(sql.raw(CREATE_STAGING));
  return {
    async write(batch) {
      await db.execute(sql.raw('TRUNCATE import_events_staging'));
      await copyIn(`COPY import_events_staging (${COLUMNS}) FROM '/dev/blob'`, [...copyChunks(batch)].join(''));
      const result = (await db.execute(sql.raw(MOVE))) as unknown as { rows: { item_id: string; type: string; n: number }[] };
      await db.execute(sql.raw('TRUNCATE import_events_staging'));
      return resultOf(result.rows);
    },
    async close() {},
  };
}
