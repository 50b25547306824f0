/** Experiment definitions from Postgres, reloaded in the background; the last good set stays in force on errors. */
import type { ExperimentSource } from '../deps.ts';
import { ExperimentSchema, type Experiment } from './definitions.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { loadExperiments } from '../../adapters/postgres/repository.ts';

export interface RefreshingExperiments extends ExperimentSource {
  refresh(): Promise<void>;
  stop(): void;
}

export function experimentsFromDatabase(database: DatabaseHandle, refreshMs: number, log: (line: Record<string, unknown>) => void = () => undefined): RefreshingExperiments {
  let current: readonly Experiment[] = [];
  const refresh = async (): Promise<void> => {
    try {
      current = await loadExperiments(await database.get(), ExperimentSchema, (id, reason) => log({ component: 'experiments', level: 'warn', id, reason: `invalid definition skipped: ${reason}` }));
    } catch (error) {
      log({ component: 'experiments', level: 'warn', error: error instanceof Error ? error.message : String(error) });
    }
  };
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();
  return { current: () => current, refresh, stop: () => clearInterval(timer) };
}
