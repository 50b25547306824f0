/** A stored experiment row, its definition validated (an invalid stored row is shown with its reason, never served). */
import type { ExperimentRow } from '../../adapters/postgres/experiment-repository.ts';
import { EXPERIMENT_STATUSES, ExperimentSchema, type Experiment, type ExperimentStatus } from './definitions.ts';

export interface StoredExperiment {
  id: string;
  status: ExperimentStatus;
  /** Parsed definition; null when the stored row does not validate (reason in `invalid`). */
  definition: Experiment | null;
  invalid?: string;
  startedAt: number | null;
  stoppedAt: number | null;
  updatedAt: string;
}

export function toStored(row: ExperimentRow): StoredExperiment {
  const parsed = ExperimentSchema.safeParse(row.definition);
  const status = EXPERIMENT_STATUSES.find((s) => s === row.status) ?? 'stopped';
  return {
    id: row.id,
    status,
    definition: parsed.success ? parsed.data : null,
    ...(parsed.success ? {} : { invalid: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }),
    startedAt: row.startedAt,
    stoppedAt: row.stoppedAt,
    updatedAt: row.updatedAt.toISOString(),
  };
}
