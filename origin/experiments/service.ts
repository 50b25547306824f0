/**
 * The operator's experiment operations, shared by the HTTP routes, the canary timer and tests: create,
 * pause/resume/stop (each logged, each visible to every origin at once through the NOTIFY trigger), results
 * (stored events + flushed serving counters → core/experiments statistics) and the canary evaluation, whose
 * promotion moves the model pointer and whose decision is logged with the figures it was based on.
 */
import { decideCanary, type CanaryDecision } from '../../core/experiments/canary-rule.ts';
import type { ArmServing } from '../../core/experiments/guardrails.ts';
import { buildResults, type ExperimentResults } from '../../core/experiments/results.ts';
import type { ShadowCounters } from '../../core/experiments/shadow-compare.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { armSums, countersOf, countRunning, createExperiment, getExperimentRow, listExperimentRows, logOf, transition, type LogEntry, type Transition } from '../../adapters/postgres/experiment-repository.ts';
import type { Experiment } from './definitions.ts';
import { modelVersionsOf } from './definitions.ts';
import { latencyCounts, SHADOW_ARM } from './serving-stats.ts';
import { toStored, type StoredExperiment } from './stored.ts';

/** Bounds the Prometheus label set and the per-request assignment work. */
export const MAX_RUNNING_EXPERIMENTS = 20;

export interface ExperimentServiceDeps {
  database: DatabaseHandle;
  /** Stores this process's pending serving counters (so results include them). */
  flushCounters: () => Promise<void>;
  /** Reloads this process's definitions at once (other processes reload through NOTIFY). */
  refresh: () => Promise<void>;
  /** Loads a model version next to the current one; rejects when it cannot be loaded. */
  pinModelVersion?: ((version: string) => Promise<void>) | undefined;
  /** Moves current.json to a version (canary promotion); every origin polling the pointer loads it. */
  publishModelVersion?: ((version: string) => Promise<void>) | undefined;
  /** Makes this origin load the pointer's version now rather than at its next poll. */
  reloadModels?: (() => Promise<unknown>) | undefined;
  now: () => number;
  log: (line: Record<string, unknown>) => void;
}

export interface ExperimentReport {
  experiment: StoredExperiment;
  window: { from: number; to: number };
  results: ExperimentResults;
  /** The canary rule applied to these results now (null for a plain A/B test or a stopped canary). */
  canary: CanaryDecision | null;
  log: LogEntry[];
}

export class ExperimentError extends Error {
  readonly status: 400 | 404 | 409 | 503;
  readonly reasons: string[];
  constructor(status: 400 | 404 | 409 | 503, message: string, reasons: string[] = []) {
    super(message);
    this.status = status;
    this.reasons = reasons;
  }
}

type Action = 'pause' | 'resume' | 'stop';
const TRANSITIONS: Record<Action, { from: ('running' | 'paused' | 'stopped')[]; to: 'running' | 'paused' | 'stopped'; logged: string }> = {
  pause: { from: ['running'], to: 'paused', logged: 'paused' },
  resume: { from: ['paused'], to: 'running', logged: 'resumed' },
  stop: { from: ['running', 'paused'], to: 'stopped', logged: 'stopped' },
};

export function createExperimentService(deps: ExperimentServiceDeps) {
  const db = () => deps.database.get();

  async function checkModelVersions(experiment: Experiment): Promise<void> {
    const failures: string[] = [];
    for (const version of modelVersionsOf(experiment)) {
      if (!deps.pinModelVersion) {
        failures.push(`settings.modelVersion: this origin cannot load model version ${version}`);
        continue;
      }
      try {
        await deps.pinModelVersion(version);
      } catch (error) {
        const where = experiment.variants.findIndex((v) => v.settings.modelVersion === version);
        failures.push(`${where >= 0 ? `variants.${where}.settings.modelVersion` : 'shadow.settings.modelVersion'}: model version ${version} cannot be loaded (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    if (failures.length > 0) throw new ExperimentError(400, 'experiment refers to a model version that cannot be served', failures);
  }

  async function create(experiment: Experiment, status: 'running' | 'paused', actor = 'api'): Promise<StoredExperiment> {
    await checkModelVersions(experiment);
    const database = await db();
    if (status === 'running' && (await countRunning(database)) >= MAX_RUNNING_EXPERIMENTS) throw new ExperimentError(409, `at most ${MAX_RUNNING_EXPERIMENTS} experiments may run at once`, ['status: pause or stop another experiment first, or create this one paused']);
    const created = await createExperiment(database, experiment.id, experiment, status, actor, deps.now());
    if (!created) throw new ExperimentError(409, `experiment ${experiment.id} exists`, ['id: experiment ids are never reused (their results are keyed by them); choose another id']);
    await deps.refresh();
    return toStored(created);
  }

  async function list(): Promise<StoredExperiment[]> {
    return (await listExperimentRows(await db())).map(toStored);
  }

  async function get(id: string): Promise<{ experiment: StoredExperiment; log: LogEntry[] }> {
    const database = await db();
    const row = await getExperimentRow(database, id);
    if (!row) throw new ExperimentError(404, `no experiment ${id}`);
    return { experiment: toStored(row), log: await logOf(database, id) };
  }

  async function change(id: string, action: Action, details: Record<string, unknown> = {}, actor = 'api'): Promise<StoredExperiment> {
    const t = TRANSITIONS[action];
    const database = await db();
    if (action === 'resume' && (await countRunning(database)) >= MAX_RUNNING_EXPERIMENTS) throw new ExperimentError(409, `at most ${MAX_RUNNING_EXPERIMENTS} experiments may run at once`);
    if (action === 'resume') {
      const found = await getExperimentRow(database, id);
      const definition = found ? toStored(found).definition : null;
      if (definition) await checkModelVersions(definition);
    }
    const result = await transition(database, id, t.from, t.to, { action: t.logged, actor, details }, deps.now());
    const experiment = unwrap(id, action, result);
    await deps.refresh();
    return experiment;
  }

  async function report(id: string): Promise<ExperimentReport> {
    await deps.flushCounters().catch(() => undefined); // include this process's latest requests when it can
    const database = await db();
    const row = await getExperimentRow(database, id);
    if (!row) throw new ExperimentError(404, `no experiment ${id}`);
    const experiment = toStored(row);
    if (!experiment.definition) throw new ExperimentError(409, `experiment ${id} has an invalid stored definition`, [experiment.invalid ?? '']);
    const definition = experiment.definition;
    const window = { from: experiment.startedAt ?? 0, to: (experiment.stoppedAt ?? deps.now()) + 1 };
    const variantIds = definition.variants.map((v) => v.id);
    const [sums, counters, log] = await Promise.all([armSums(database, id, variantIds, window.from, window.to), countersOf(database, id), logOf(database, id)]);
    const serving = new Map<string, ArmServing>(variantIds.map((v) => {
      const c = counters.get(v);
      return [v, { requests: c?.get('requests') ?? 0, errors: c?.get('errors') ?? 0, fallbacks: c?.get('fallbacks') ?? 0, latency: latencyCounts(c) }];
    }));
    const s = counters.get(SHADOW_ARM);
    const shadow: ShadowCounters | null = s ? { comparisons: s.get('comparisons') ?? 0, errors: s.get('errors') ?? 0, overlapSum: s.get('overlap_sum') ?? 0, overlapSq: s.get('overlap_sq') ?? 0, tauSum: s.get('tau_sum') ?? 0, tauN: s.get('tau_n') ?? 0, servedLatency: latencyCounts(s, 'served_'), shadowLatency: latencyCounts(s, 'shadow_') } : null;
    const results = buildResults({ id, variants: definition.variants, primaryMetric: definition.primaryMetric, alpha: definition.alpha, mde: definition.mde, minVisitors: definition.minVisitors }, sums, serving, shadow);
    const canary = definition.canary && experiment.status !== 'stopped' ? decideCanary(results, definition.canary, (deps.now() - window.from) / 3_600_000) : null;
    return { experiment, window, results, canary, log };
  }

  /**
   * Applies the canary rule now. With apply (and the definition's autoApply, or force from an operator), a
   * promote moves current.json to the canary's version and stops the experiment; a rollback stops it (the
   * canary gets no more traffic). Either way the decision and its figures are logged in experiment_log.
   */
  async function evaluateCanary(id: string, options: { apply: boolean; force?: boolean; actor?: string }): Promise<{ decision: CanaryDecision; applied: boolean; experiment: StoredExperiment }> {
    const r = await report(id);
    const definition = r.experiment.definition!;
    if (!definition.canary) throw new ExperimentError(400, `experiment ${id} is not a canary`, ['canary: create the experiment with a canary block']);
    if (!r.canary) throw new ExperimentError(409, `canary ${id} is ${r.experiment.status}`);
    const decision = r.canary;
    const apply = options.apply && (definition.canary.autoApply || options.force === true) && decision.action !== 'wait';
    if (!apply) return { decision, applied: false, experiment: r.experiment };
    const version = definition.variants[1]!.settings.modelVersion!;
    const action = decision.action === 'promote' ? 'promoted' : 'rolled-back';
    const result = await transition(await db(), id, ['running', 'paused'], 'stopped', { action, actor: options.actor ?? 'canary-rule', details: { modelVersion: version, reasons: decision.reasons, figures: decision.figures } }, deps.now(), decision.action === 'promote'
      ? async () => {
          if (!deps.publishModelVersion) throw new ExperimentError(503, 'this origin cannot move the model pointer');
          await deps.publishModelVersion(version);
        }
      : undefined);
    const experiment = unwrap(id, 'stop', result);
    deps.log({ component: 'canary', experimentId: id, action, modelVersion: version, reasons: decision.reasons });
    if (decision.action === 'promote') await deps.reloadModels?.().catch((error: unknown) => deps.log({ component: 'canary', level: 'warn', error: error instanceof Error ? error.message : String(error) }));
    await deps.refresh();
    return { decision, applied: true, experiment };
  }

  /** Every running canary, through the rule (the timer calls this; errors are logged per experiment). */
  async function evaluateCanaries(running: readonly Experiment[]): Promise<void> {
    for (const e of running.filter((x) => x.enabled && x.canary?.autoApply)) {
      try {
        await evaluateCanary(e.id, { apply: true });
      } catch (error) {
        deps.log({ component: 'canary', level: 'warn', experimentId: e.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  return { create, list, get, change, report, evaluateCanary, evaluateCanaries };
}

export type ExperimentService = ReturnType<typeof createExperimentService>;

function unwrap(id: string, action: string, result: Transition): StoredExperiment {
  if (result.ok) return toStored(result.row);
  if (result.reason === 'not-found') throw new ExperimentError(404, `no experiment ${id}`);
  throw new ExperimentError(409, `cannot ${action} experiment ${id}: it is ${result.status}`);
}
