/**
 * `npm run import -- --check …`: reads and validates the files exactly as an import would (same readers, same
 * schemas, same line numbers) and writes nothing, so an operator can fix a file before touching any store.
 */
import type { ZodType } from 'zod';
import { EventRowSchema, ItemRowSchema, UserRowSchema } from '../../shared/contracts/import.ts';
import { readRows } from './read-rows.ts';
import type { FileSummary } from './import.ts';

async function checkFile(file: string, schema: ZodType, keepErrors: number): Promise<FileSummary> {
  const started = Date.now();
  const summary: FileSummary = { file, seconds: 0, rows: 0, rejected: 0, errors: [] };
  for await (const read of readRows(file, schema)) {
    summary.rows++;
    if (read.ok) continue;
    summary.rejected++;
    if (summary.errors.length < keepErrors) summary.errors.push({ line: read.line, reason: read.reason });
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

export async function checkImportFiles(files: { items?: string | undefined; users?: string | undefined; events?: string | undefined }, keepErrors = 100): Promise<{ items?: FileSummary; users?: FileSummary; events?: FileSummary }> {
  return {
    ...(files.items ? { items: await checkFile(files.items, ItemRowSchema, keepErrors) } : {}),
    ...(files.users ? { users: await checkFile(files.users, UserRowSchema, keepErrors) } : {}),
    ...(files.events ? { events: await checkFile(files.events, EventRowSchema, keepErrors) } : {}),
  };
}
