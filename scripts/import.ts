/**
 * `npm run import -- [--items FILE] [--users FILE] [--events FILE] [--on-error skip|fail] [--database-url URL]
 *   [--pglite-dir DIR] [--redis-url URL] [--no-copy] [--no-progress] [--check]`
 * Imports a catalogue, users and an event log (NDJSON or CSV, docs/import-format.md) into the configured
 * database (DATABASE_URL, else PGlite in PGLITE_DIR or var/pglite) and feature store (REDIS_URL). Prints a JSON
 * summary on stdout; bad rows go to stderr with their file and line. Exit 1 when the import failed.
 * --check validates the files the same way and writes nothing (exit 3 when a row is bad).
 */
import cliProgress from 'cli-progress';
import { parseArgs } from 'node:util';
import { runImport, type FileSummary, type ImportProgress } from '../batch/import/import.ts';
import { openImportTargets } from '../batch/import/open-targets.ts';
import { checkImportFiles } from '../batch/import/check.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string' },
    users: { type: 'string' },
    events: { type: 'string' },
    'on-error': { type: 'string', default: 'skip' },
    'database-url': { type: 'string' },
    'pglite-dir': { type: 'string' },
    'redis-url': { type: 'string' },
    'no-copy': { type: 'boolean', default: false },
    'no-progress': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    batch: { type: 'string' },
  },
});

const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);

function progressBar(): ImportProgress | undefined {
  if (values['no-progress'] || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar({ format: 'import {phase} [{bar}] {percentage}% | {rows} rows | eta {eta_formatted}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  let rows = 0;
  return {
    phase(name, total) {
      rows = 0;
      bar.start(Math.max(1, total), 0, { phase: name, rows });
    },
    advance(n, more) {
      rows += more;
      bar.increment(n, { rows });
    },
    end() {
      bar.stop();
    },
  };
}

function reportErrors(summary: { items?: FileSummary | undefined; users?: FileSummary | undefined; events?: FileSummary | undefined }): void {
  for (const part of [summary.items, summary.users, summary.events]) {
    if (!part || part.rejected === 0) continue;
    for (const error of part.errors) process.stderr.write(`[import] ${part.file}:${error.line}: ${error.reason}\n`);
    if (part.rejected > part.errors.length) process.stderr.write(`[import] ${part.file}: … and ${part.rejected - part.errors.length} more bad rows\n`);
  }
}

try {
  const onError = values['on-error'];
  if (onError !== 'skip' && onError !== 'fail') throw new Error(`--on-error must be skip or fail, got ${onError}`);
  if (!values.items && !values.events && !values.users) throw new Error('nothing to import: give --items FILE, --users FILE and/or --events FILE');
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  if (batch !== undefined && (!Number.isInteger(batch) || batch <= 0)) throw new Error(`--batch must be a positive integer, got ${values.batch}`);
  if (values.check) {
    const checked = await checkImportFiles({ items: values.items, users: values.users, events: values.events });
    reportErrors(checked);
    process.stdout.write(`${JSON.stringify({ check: true, ...checked }, (key, value: unknown) => (key === 'errors' ? undefined : value))}\n`);
    const bad = [checked.items, checked.users, checked.events].some((part) => part !== undefined && part.rejected > 0);
    if (bad) process.exitCode = 3;
  } else {
    await importFiles(onError, batch);
  }
} catch (error) {
  process.stderr.write(`[import] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

async function importFiles(onError: 'skip' | 'fail', batch: number | undefined): Promise<void> {
  const databaseUrl = values['database-url'] ?? env('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
  const targets = await openImportTargets({ databaseUrl, pgliteDir: values['pglite-dir'] ?? env('PGLITE_DIR'), redisUrl: values['redis-url'] ?? env('REDIS_URL'), redisKeyPrefix: env('REDIS_KEY_PREFIX'), copy: !values['no-copy'] });
  process.stderr.write(`[import] into ${targets.description}\n`);
  try {
    const summary = await runImport({ items: values.items, users: values.users, events: values.events, onError, database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore, progress: progressBar(), ...(batch ? { batchSize: batch } : {}) });
    reportErrors(summary);
    if (summary.events && summary.events.unknownItems > 0) process.stderr.write(`[import] ${summary.events.file}: ${summary.events.unknownItems} events name items that are not in the catalogue (stored, never recommended; import the items, or check the ids)\n`);
    const slim = JSON.stringify(summary, (key, value: unknown) => (key === 'errors' ? undefined : value));
    process.stdout.write(`${slim}\n`);
  } finally {
    await targets.close();
  }
}
