/**
 * Writes converted rows as NDJSON files (items.ndjson, events.ndjson, users.ndjson) in an output folder,
 * streamed with back-pressure. Each row is checked against the import schema on the way, so a converter can
 * never hand `npm run import` a file it would refuse; the first invalid row stops the conversion with its
 * line number and reason.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { ZodType } from 'zod';
import { EventRowSchema, ItemRowSchema, UserRowSchema } from '../../../shared/contracts/import.ts';
import type { ConvertedDataset } from './ml-100k.ts';

export interface ConvertCounts {
  items: number;
  events: number;
  users: number;
}

async function writeRows(rows: AsyncIterable<unknown>, schema: ZodType, path: string): Promise<number> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let line = 0;
  for await (const row of rows) {
    line++;
    const checked = schema.safeParse(row);
    if (!checked.success) {
      out.destroy();
      throw new Error(`${path}:${line}: converter produced an invalid row (${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    }
    if (!out.write(`${JSON.stringify(row)}\n`)) await Promise.race([once(out, 'drain'), failed]);
  }
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  return line;
}

export async function writeConverted(dataset: ConvertedDataset, outDir: string): Promise<ConvertCounts> {
  await mkdir(outDir, { recursive: true });
  return {
    items: await writeRows(dataset.items(), ItemRowSchema, join(outDir, 'items.ndjson')),
    users: await writeRows(dataset.users(), UserRowSchema, join(outDir, 'users.ndjson')),
    events: await writeRows(dataset.events(), EventRowSchema, join(outDir, 'events.ndjson')),
  };
}
