/**
 * Experiment definitions from Postgres, kept current in two ways: a LISTEN on `experiments_changed` (a
 * trigger NOTIFYs on every write, see migration 0002) reloads within milliseconds of a change, and a poll
 * every EXPERIMENTS_REFRESH_MS catches anything missed (listener down, Postgres restarted). The last good set
 * stays in force on errors. onChange sees each newly loaded set (the origin pins the model versions it serves).
 */
import type { ExperimentSource } from '../deps.ts';
import { ExperimentSchema, type Experiment } from './definitions.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { loadExperiments } from '../../adapters/postgres/repository.ts';
import { coalescedRefresh } from '../../shared/util/coalesced.ts';

export const EXPERIMENTS_CHANNEL = 'experiments_changed';

export interface RefreshingExperiments extends ExperimentSource {
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export interface ExperimentSourceOptions {
  refreshMs: number;
  log?: (line: Record<string, unknown>) => void;
  onChange?: (experiments: readonly Experiment[]) => void | Promise<void>;
  /** LISTEN for changes (default true). */
  listen?: boolean;
}

export function experimentsFromDatabase(database: DatabaseHandle, options: ExperimentSourceOptions): RefreshingExperiments {
  const log = options.log ?? (() => undefined);
  let current: readonly Experiment[] = [];
  const load = async (): Promise<void> => {
    try {
      const stored = await loadExperiments(await database.get(), ExperimentSchema, (id, reason) => log({ component: 'experiments', level: 'warn', id, reason: `invalid definition skipped: ${reason}` }));
      // Paused and stopped experiments assign nobody.
      current = stored.map(({ definition, status }) => ({ ...definition, enabled: definition.enabled && status === 'running' }));
      await options.onChange?.(current);
    } catch (error) {
      log({ component: 'experiments', level: 'warn', error: error instanceof Error ? error.message : String(error) });
    }
  };
  // One load at a time; a change notified during a load triggers one more, so the last write is always seen.
  const { refresh, settled } = coalescedRefresh(load);
  const timer = setInterval(() => void refresh(), options.refreshMs);
  timer.unref();
  const unlisten = options.listen === false ? Promise.resolve(async () => undefined) : database.listen(EXPERIMENTS_CHANNEL, () => void refresh());
  return {
    current: () => current,
    refresh,
    stop: async () => {
      clearInterval(timer);
      await (await unlisten)();
      await settled();
    },
  };
}
