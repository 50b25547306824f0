/**
 * Batch export of a written slate version for downstream systems (email, push): streams the slates exactly
 * as the edge serves them, read back from KV, as NDJSON (one slate per line) or CSV (one row per item;
 * csv.ts: csv-stringify with formula cells neutralised).
 * `exportSlates` yields text chunks, so the origin's GET /v1/export and `npm run export` share it.
 */
import { z } from 'zod';
import { SLATE_POINTER_KEY, slateKey, slateListPrefix } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { decodeSlate, SlatePointerSchema, SlateSchema, type Slate } from '../../shared/contracts/slate.ts';
import { csvLines } from './csv.ts';

export const ExportQuerySchema = z.object({
  /** Slate version; default the live one (slates:current). */
  version: z.string().regex(/^[\w.-]+$/).optional(),
  /** Only this segment: its segment slate plus the user slates of its users. */
  segment: z.string().min(1).max(64).optional(),
  /** Which slates: users, segments (incl. popular) or both. */
  kind: z.enum(['all', 'user', 'segment']).default('all'),
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  /** Items per slate in the export (default all). */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

export interface ExportRow {
  version: string;
  modelVersion: string;
  subject: 'user' | 'segment' | 'popular';
  id: string;
  segment: string | null;
  generatedAt: number;
  items: { id: string; score: number; reason: string }[];
}

export const CSV_HEADER = csvLines([['version', 'model_version', 'subject', 'id', 'segment', 'rank', 'item_id', 'score', 'reason']]);

export function contentTypeOf(format: ExportQuery['format']): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}

export function formatRow(row: ExportRow, format: ExportQuery['format']): string {
  if (format === 'ndjson') return `${JSON.stringify(row)}\n`;
  if (row.items.length === 0) return '';
  return csvLines(row.items.map((item, rank) => [row.version, row.modelVersion, row.subject, row.id, row.segment, rank + 1, item.id, item.score, item.reason]));
}

function rowOf(slate: Slate, subject: ExportRow['subject'], id: string, segment: string | null, limit: number | undefined): ExportRow {
  const items = decodeSlate(slate).map((e) => ({ id: e.id, score: e.score, reason: e.reason }));
  return { version: slate.sv, modelVersion: slate.mv, subject, id, segment, generatedAt: slate.at, items: limit === undefined ? items : items.slice(0, limit) };
}

export class ExportError extends Error {}

/** Fetches values for keys with bounded parallelism, preserving order; `drop` may leave keys of a window out. */
async function* getInOrder(kv: KvWriter, keys: AsyncIterable<string>, window: number, drop?: (keys: string[]) => Promise<string[]>): AsyncGenerator<[string, string | null]> {
  let batch: string[] = [];
  const flush = async (): Promise<[string, string | null][]> => {
    if (drop) batch = await drop(batch);
    const values = batch.length === 0 ? [] : await kv.getMany(batch);
    const out = batch.map((key, i): [string, string | null] => [key, values[i] ?? null]);
    batch = [];
    return out;
  };
  for await (const key of keys) {
    batch.push(key);
    if (batch.length >= window) yield* await flush();
  }
  if (batch.length > 0) yield* await flush();
}

/**
 * Streams a version's slates. `segmentOf` maps a user id to its segment (from the origin's user store or
 * the catalogue); without it a segment filter cannot select user slates and only the segment slate is sent.
 * `erasedAmong` (the erasure marker) leaves out users erased meanwhile, e.g. a slate a running nightly wrote
 * just before its own after-write check deletes it again.
 */
export async function* exportSlates(kv: KvWriter, query: ExportQuery, segmentOf?: (userId: string) => string | undefined, erasedAmong?: (userIds: readonly string[]) => Promise<Set<string>>): AsyncGenerator<string> {
  let version = query.version;
  if (version === undefined) {
    const pointer = await kv.get(SLATE_POINTER_KEY);
    if (pointer === null) throw new ExportError('no slate version is live yet (slates:current is missing)');
    version = SlatePointerSchema.parse(JSON.parse(pointer)).version;
  }
  if (query.format === 'csv') yield CSV_HEADER;
  const parse = (text: string): Slate => SlateSchema.parse(JSON.parse(text));

  if (query.kind !== 'user') {
    const subjects = query.segment !== undefined ? [query.segment] : undefined;
    const segmentPrefix = slateListPrefix(version, 'segment');
    const names = subjects ?? (await (async () => {
      const out: string[] = [];
      for await (const key of kv.list(segmentPrefix)) out.push(key.slice(segmentPrefix.length));
      return out;
    })());
    for (const name of names) {
      const text = await kv.get(slateKey(version, { kind: 'segment', name }));
      if (text !== null) yield formatRow(rowOf(parse(text), 'segment', name, name, query.limit), query.format);
    }
    if (query.segment === undefined) {
      const popular = await kv.get(slateKey(version, { kind: 'popular' }));
      if (popular !== null) yield formatRow(rowOf(parse(popular), 'popular', 'popular', null, query.limit), query.format);
    }
  }

  if (query.kind === 'segment' || (query.segment !== undefined && segmentOf === undefined)) return;
  const userPrefix = slateListPrefix(version, 'user');
  const wanted = async function* (): AsyncGenerator<string> {
    for await (const key of kv.list(userPrefix)) {
      const userId = key.slice(userPrefix.length);
      if (query.segment === undefined || segmentOf?.(userId) === query.segment) yield key;
    }
  };
  const drop = erasedAmong
    ? async (keys: string[]): Promise<string[]> => {
        const erased = await erasedAmong(keys.map((key) => key.slice(userPrefix.length)));
        return erased.size === 0 ? keys : keys.filter((key) => !erased.has(key.slice(userPrefix.length)));
      }
    : undefined;
  for await (const [key, text] of getInOrder(kv, wanted(), 256, drop)) {
    if (text === null) continue;
    const userId = key.slice(userPrefix.length);
    yield formatRow(rowOf(parse(text), 'user', userId, segmentOf?.(userId) ?? null, query.limit), query.format);
  }
}
