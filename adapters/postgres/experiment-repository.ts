/**
 * Experiment queries: the operator's lifecycle (create, status changes, each with a row in experiment_log),
 * the per-arm sums of the stored events that the statistics need, and the additive serving/shadow counters
 * the origins flush. Runs on Postgres and PGlite alike (plain SQL, no extension).
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { EMPTY_COUNTS, type ArmCounts } from '../../core/experiments/metrics.ts';
import type { Db } from './database.ts';
import { experimentCounters, experimentLog, experiments } from './schema.ts';

/** A stored experiment as it is in the table; the definition is validated by its reader (origin/experiments/stored.ts). */
export interface ExperimentRow {
  id: string;
  status: string;
  definition: unknown;
  startedAt: number | null;
  stoppedAt: number | null;
  updatedAt: Date;
}

export interface LogEntry {
  at: number;
  action: string;
  actor: string;
  details: unknown;
}

export async function listExperimentRows(db: Db): Promise<ExperimentRow[]> {
  return db.select().from(experiments).orderBy(asc(experiments.id));
}

export async function getExperimentRow(db: Db, id: string): Promise<ExperimentRow | null> {
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id));
  return row ?? null;
}

export async function countRunning(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(experiments).where(eq(experiments.status, 'running'));
  return row?.n ?? 0;
}

/** Inserts a new experiment and its 'created' log row; null when the id exists already. */
export async function createExperiment(db: Db, id: string, definition: unknown, status: string, actor: string, now: number): Promise<ExperimentRow | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(experiments).values({ id, definition, status, startedAt: now }).onConflictDoNothing().returning();
    if (!row) return null;
    await tx.insert(experimentLog).values({ experimentId: id, at: now, action: 'created', actor, details: { status, definition } });
    return row;
  });
}

export type Transition = { ok: true; row: ExperimentRow } | { ok: false; reason: 'not-found' | 'conflict'; status?: string };

/**
 * Moves an experiment from one of `from` to `to` and logs it, in one transaction with the row locked, so
 * concurrent operators and the canary rule on several replicas cannot both act. `before` runs inside the lock
 * (e.g. the canary's pointer move); if it throws, nothing changes.
 */
export async function transition(db: Db, id: string, from: readonly string[], to: string, entry: Omit<LogEntry, 'at'>, now: number, before?: () => Promise<void>): Promise<Transition> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(experiments).where(eq(experiments.id, id)).for('update');
    if (!row) return { ok: false, reason: 'not-found' } as const;
    if (!from.includes(row.status)) return { ok: false, reason: 'conflict', status: row.status } as const;
    await before?.();
    const [updated] = await tx
      .update(experiments)
      .set({ status: to, updatedAt: new Date(now), ...(to === 'stopped' ? { stoppedAt: now } : {}) })
      .where(eq(experiments.id, id))
      .returning();
    await tx.insert(experimentLog).values({ experimentId: id, at: now, action: entry.action, actor: entry.actor, details: entry.details ?? {} });
    return { ok: true, row: updated! } as const;
  });
}

export async function appendLog(db: Db, id: string, entry: LogEntry): Promise<void> {
  await db.insert(experimentLog).values({ experimentId: id, at: entry.at, action: entry.action, actor: entry.actor, details: entry.details ?? {} });
}

export async function logOf(db: Db, id: string, limit = 200): Promise<LogEntry[]> {
  const rows = await db.select().from(experimentLog).where(eq(experimentLog.experimentId, id)).orderBy(desc(experimentLog.id)).limit(limit);
  return rows.reverse().map((r) => ({ at: r.at, action: r.action, actor: r.actor, details: r.details }));
}

export interface CounterDelta {
  experimentId: string;
  arm: string;
  name: string;
  value: number;
}

/**
 * Adds deltas to the stored counters (upserts in one transaction, so a failed flush adds nothing and can be
 * retried whole); replicas add their own, so the sums cover all of them.
 */
export async function addCounters(db: Db, deltas: readonly CounterDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const chunk = 4000; // 4 parameters a row: far below Postgres' 65 535 bind parameters per statement
  await db.transaction(async (tx) => {
    for (let i = 0; i < deltas.length; i += chunk) {
      await tx
        .insert(experimentCounters)
        .values(deltas.slice(i, i + chunk))
        .onConflictDoUpdate({ target: [experimentCounters.experimentId, experimentCounters.arm, experimentCounters.name], set: { value: sql`${experimentCounters.value} + excluded.value` } });
    }
  });
}

/** Counters of one experiment: arm → name → value. */
export async function countersOf(db: Db, id: string, arms?: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const rows = await db
    .select()
    .from(experimentCounters)
    .where(arms ? and(eq(experimentCounters.experimentId, id), inArray(experimentCounters.arm, [...arms])) : eq(experimentCounters.experimentId, id));
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const arm = out.get(r.arm) ?? new Map<string, number>();
    arm.set(r.name, r.value);
    out.set(r.arm, arm);
  }
  return out;
}

const SumsRowSchema = z.object({
  arm: z.string(),
  visitors: z.coerce.number(),
  impressions: z.coerce.number(),
  impressions_sq: z.coerce.number(),
  clicks: z.coerce.number(),
  clicks_sq: z.coerce.number(),
  clicks_x_impressions: z.coerce.number(),
  carters: z.coerce.number(),
  purchasers: z.coerce.number(),
  add_to_carts: z.coerce.number(),
  purchases: z.coerce.number(),
  revenue: z.coerce.number(),
  revenue_sq: z.coerce.number(),
});

/**
 * Visitor-level sums per arm of one experiment over events with ts in [fromMs, toMs): each event counts for
 * the arm its variant label names for this experiment; a visitor is the user id, else the session id (the
 * assignment unit). Only the experiment's own variant ids are returned (a hostile label adds nothing).
 */
export async function armSums(db: Db, experimentId: string, variantIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, ArmCounts>> {
  const result = await db.execute(sql`
    WITH labelled AS (
      SELECT coalesce(e.user_id, e.session_id) AS unit, e.type, e.value, split_part(l.label, ':', 2) AS arm
      FROM events e
      CROSS JOIN LATERAL unnest(string_to_array(e.variant, ',')) AS l(label)
      WHERE e.variant IS NOT NULL AND e.ts >= ${fromMs} AND e.ts < ${toMs} AND split_part(l.label, ':', 1) = ${experimentId}
    ), per_unit AS (
      SELECT arm, unit,
        (count(*) FILTER (WHERE type = 'impression'))::float8 AS i,
        (count(*) FILTER (WHERE type = 'click'))::float8 AS c,
        (count(*) FILTER (WHERE type = 'add_to_cart'))::float8 AS a,
        (count(*) FILTER (WHERE type = 'purchase'))::float8 AS p,
        coalesce(sum(value) FILTER (WHERE type = 'purchase'), 0)::float8 AS r
      FROM labelled GROUP BY arm, unit
    )
    SELECT arm, count(*)::float8 AS visitors,
      sum(i)::float8 AS impressions, sum(i * i)::float8 AS impressions_sq,
      sum(c)::float8 AS clicks, sum(c * c)::float8 AS clicks_sq, sum(c * i)::float8 AS clicks_x_impressions,
      (count(*) FILTER (WHERE a > 0))::float8 AS carters, (count(*) FILTER (WHERE p > 0))::float8 AS purchasers,
      sum(a)::float8 AS add_to_carts, sum(p)::float8 AS purchases, sum(r)::float8 AS revenue, sum(r * r)::float8 AS revenue_sq
    FROM per_unit GROUP BY arm`);
  const rows = (result as unknown as { rows: unknown[] }).rows;
  const wanted = new Set(variantIds);
  const out = new Map<string, ArmCounts>();
  for (const raw of rows) {
    const r = SumsRowSchema.parse(raw);
    if (!wanted.has(r.arm)) continue;
    out.set(r.arm, { ...EMPTY_COUNTS, visitors: r.visitors, impressions: r.impressions, impressionsSq: r.impressions_sq, clicks: r.clicks, clicksSq: r.clicks_sq, clicksTimesImpressions: r.clicks_x_impressions, carters: r.carters, purchasers: r.purchasers, addToCarts: r.add_to_carts, purchases: r.purchases, revenue: r.revenue, revenueSq: r.revenue_sq });
  }
  return out;
}
