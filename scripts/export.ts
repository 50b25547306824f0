/**
 * `npm run export -- [--version V] [--segment S] [--kind all|user|segment] [--format ndjson|csv] [--limit N]
 *   [--kv local|cloudflare] [--persist-to DIR] [--namespace-id ID] [--out FILE]`
 * Streams a written slate version from KV to stdout (or --out) for downstream systems. User segments come
 * from the built-in catalogue (the same users the nightly computed). With DATABASE_URL (the origin's
 * database), users erased meanwhile are left out (the erasure marker).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { generateShop } from '../shared/catalog/generator.ts';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';
import { exportSlates, ExportQuerySchema } from '../batch/export/export.ts';
import { openErasureMarker } from '../adapters/postgres/erasure-marker.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    segment: { type: 'string' },
    kind: { type: 'string' },
    format: { type: 'string' },
    limit: { type: 'string' },
    kv: { type: 'string' },
    'persist-to': { type: 'string' },
    'namespace-id': { type: 'string' },
    out: { type: 'string' },
  },
});

const query = ExportQuerySchema.parse({ version: values.version, segment: values.segment, kind: values.kind, format: values.format, limit: values.limit });
const segments = new Map(generateShop().users.map((user) => [user.id, user.segment]));
const kv = await openKv(kvSettingsFrom({ kv: values.kv, persistTo: values['persist-to'], namespaceId: values['namespace-id'] }, process.env, root));
// A closed reader (e.g. `| head`) is not an error for a stream export.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const marker = process.env.DATABASE_URL ? await openErasureMarker(process.env.DATABASE_URL) : undefined;
const out = values.out === undefined ? process.stdout : createWriteStream(values.out);
let rows = 0;
try {
  for await (const chunk of exportSlates(kv, query, (userId) => segments.get(userId), marker ? (ids) => marker.erased(ids) : undefined)) {
    rows++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
  process.stderr.write(`[export] ${rows} slates written\n`);
} catch (error) {
  process.stderr.write(`[export] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await kv.close();
  await marker?.close();
}
