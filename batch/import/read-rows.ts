/**
 * Reads an import file row by row, streamed (memory flat in the file's size): NDJSON (`.ndjson`, `.jsonl`,
 * `.json`) or CSV (`.csv`, header row; csv-parse). Each row is validated with its zod schema and comes out
 * either as data or as an error with its line number and reason, so the caller decides: skip or fail.
 * `onBytes` reports bytes read for a progress bar.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { ZodType } from 'zod';

export type ImportFormat = 'ndjson' | 'csv';

export type ReadRow<T> = { ok: true; line: number; row: T } | { ok: false; line: number; reason: string };

export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export function formatOf(path: string): ImportFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl') || lower.endsWith('.json')) return 'ndjson';
  throw new ImportFileError(`${path}: unknown format (name it .ndjson, .jsonl or .csv)`);
}

/** zod issues as one line: "ts: timestamp out of range; price: Too small…". */
export function reasonOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
}

function validate<T>(schema: ZodType<T>, value: unknown, line: number): ReadRow<T> {
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, line, row: parsed.data } : { ok: false, line, reason: reasonOf(parsed.error.issues) };
}

export async function* readRows<T>(path: string, schema: ZodType<T>, onBytes: (bytes: number) => void = () => undefined): AsyncGenerator<ReadRow<T>> {
  const format = formatOf(path);
  const input = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (error: NodeJS.ErrnoException) => reject(new ImportFileError(error.code === 'ENOENT' ? `${path}: no such file` : `${path}: ${error.message}`)));
  });
  await opened;
  input.on('data', (chunk) => onBytes(chunk.length));
  if (format === 'ndjson') yield* ndjsonRows(input, schema);
  else yield* csvRows(input, schema);
}

async function* ndjsonRows<T>(input: NodeJS.ReadableStream, schema: ZodType<T>): AsyncGenerator<ReadRow<T>> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { ok: false, line, reason: `invalid JSON (${error instanceof Error ? error.message : String(error)})` };
      continue;
    }
    yield validate(schema, value, line);
  }
}

async function* csvRows<T>(input: NodeJS.ReadableStream, schema: ZodType<T>): AsyncGenerator<ReadRow<T>> {
  // Malformed records (wrong cell count, bad quoting) are skipped by the parser and reported here with their line.
  const skipped: ReadRow<T>[] = [];
  const parser = parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, info: true, skip_records_with_error: true });
  parser.on('skip', (error: Error & { lines?: number }) => skipped.push({ ok: false, line: error.lines ?? 0, reason: `malformed CSV (${error.message})` }));
  input.pipe(parser);
  for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    // The parser reports a skipped record as soon as it parses it, often before earlier records are read: keep file order.
    while (skipped.length > 0 && (skipped[0]?.line ?? 0) < record.info.lines) yield skipped.shift() as ReadRow<T>;
    yield validate(schema, record.record, record.info.lines);
  }
  while (skipped.length > 0) yield skipped.shift() as ReadRow<T>;
}
