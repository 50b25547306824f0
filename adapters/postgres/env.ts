/**
 * Which event store a command-line job (train, cycle, import) opens: DATABASE_URL (a Postgres server) when
 * set, else the embedded PGlite in PGLITE_DIR, else the default folder `var/pglite` (as `npm run import`) under the repository —
 * the same folder `npm start -- --dataset …` gives the origin. An in-memory database would be empty for a job
 * in its own process, so jobs never default to one. PGlite is single-process: with an origin running on
 * the same folder, stop it first or use a Postgres server.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatabaseOptions } from './database.ts';

export const DEFAULT_PGLITE_DIR = join('var', 'pglite');

export function jobDatabaseOptions(env: NodeJS.ProcessEnv, repositoryRoot: string): DatabaseOptions & { describe: string } {
  const url = env.DATABASE_URL?.trim();
  if (url) return { databaseUrl: url, describe: `Postgres ${url.replace(/\/\/[^@/]*@/, '//…@')}` };
  const dir = resolve(repositoryRoot, env.PGLITE_DIR?.trim() || DEFAULT_PGLITE_DIR);
  mkdirSync(dir, { recursive: true });
  return { pgliteDir: dir, describe: `PGlite ${dir}` };
}
