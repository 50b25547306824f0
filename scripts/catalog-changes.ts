/**
 * `npm run catalog:changes -- --file updates.ndjson [--kv local|cloudflare --persist-to DIR --namespace-id ID]`
 * Publishes price/stock updates ({"id":"i42","stock":0} / {"id":"i7","price":19.9}, one JSON object per line;
 * `-` or no --file reads stdin) for the edge to apply before the next nightly run. Every line is validated
 * first: one bad line → nothing is published, each bad line named. Prints one JSON summary line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ItemUpdateSchema, type ItemUpdate } from '../shared/contracts/item-changes.ts';
import { publishItemChanges } from '../batch/nightly/item-changes.ts';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { file: { type: 'string', default: '-' }, kv: { type: 'string' }, 'persist-to': { type: 'string' }, 'namespace-id': { type: 'string' } } });

const text = readFileSync(values.file === '-' ? 0 : values.file, 'utf8');
const updates: ItemUpdate[] = [];
const errors: string[] = [];
text.split('\n').forEach((line, n) => {
  if (line.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    errors.push(`line ${n + 1}: not valid JSON`);
    return;
  }
  const row = ItemUpdateSchema.safeParse(value);
  if (row.success) updates.push(row.data);
  else errors.push(...row.error.issues.map((i) => `line ${n + 1}: ${i.path.join('.') || '(row)'}: ${i.message}`));
});
if (errors.length > 0) {
  process.stderr.write(`[catalog:changes] nothing published:\n${errors.slice(0, 50).map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(1);
}
const kv = await openKv(kvSettingsFrom({ kv: values.kv, persistTo: values['persist-to'], namespaceId: values['namespace-id'] }, process.env, root));
try {
  const result = await publishItemChanges(kv, updates, Date.now());
  process.stdout.write(`${JSON.stringify({ event: 'catalog-changes', published: updates.length, ...result })}\n`);
} finally {
  await kv.close();
}
