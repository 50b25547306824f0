/**
 * The fast path of `npm run import` on a Postgres server: each batch is streamed with COPY (pg-copy-streams)
 * into a session-private staging table, then moved with one INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING,
 * so re-running an import still stores nothing twice. One dedicated connection; PGlite uses the drizzle writer.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventBatchResult, EventWriter, ImportedEvent } from './import-repository.ts';

const COLUMNS = 'event_id, type, item_id, user_id, session_id, ts, value';

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function cell(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}

function* copyLines(batch: readonly ImportedEvent[], perChunk = 2000): Generator<string> {
  for (let i = 0; i < batch.length; i += perChunk) {
    let text = '';
    for (const e of batch.slice(i, i + perChunk)) text += `${cell(e.eventId)}\t${cell(e.type)}\t${cell(e.itemId)}\t${cell(e.userId)}\t${cell(e.sessionId)}\t${e.ts}\t${cell(e.value)}\n`;
    yield text;
  }
}

/** Opens the connection and the staging table; the events table must exist (run the migrations first). */
export async function copyEventWriter(url: string): Promise<EventWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('error', () => undefined); // surfaced by the next query
  await client.query(`CREATE TEMP TABLE import_events_staging (event_id text, type text, item_id text, user_id text, session_id text, ts bigint, value double precision)`);
  return {
    async write(batch): Promise<EventBatchResult> {
      await client.query('BEGIN');
      try {
        await pipeline(Readable.from(copyLines(batch)), client.query(copyFrom(`COPY import_events_staging (${COLUMNS}) FROM STDIN`)));
        const result = await client.query<{ item_id: string; type: string; n: number }>(
          `WITH ins AS (INSERT INTO events (${COLUMNS}) SELECT ${COLUMNS} FROM import_events_staging ON CONFLICT (event_id) DO NOTHING RETURNING item_id, type)
           SELECT item_id, type, count(*)::int AS n FROM ins WHERE type IN ('impression', 'click') GROUP BY item_id, type
           UNION ALL SELECT '', 'total', count(*)::int FROM ins`,
        );
        await client.query('TRUNCATE import_events_staging');
        await client.query('COMMIT');
        let inserted = 0;
        const counters: EventBatchResult['counters'] = [];
        for (const row of result.rows) {
          if (row.type === 'total') inserted = row.n;
          else if (row.type === 'impression' || row.type === 'click') counters.push({ itemId: row.item_id, type: row.type, n: row.n });
        }
        return { inserted, counters };
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
