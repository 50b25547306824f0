/**
 * The feature outbox drainer (issue 12.6): events are stored in Postgres with features_pending = true and
 * cleared once the feature store (Redis) has applied them. Events stored while Redis was down — answered
 * 200 with `redis-unavailable`, and answered as duplicates when retried — stay pending; every `intervalMs`
 * this drainer checks that the feature store answers, then applies the pending events oldest first, in
 * batches, and clears them. Rows are locked with SKIP LOCKED, so several origins drain without applying an
 * event twice, and rows younger than the grace (FEATURE_OUTBOX_GRACE_MS) are left to the request that is still
 * applying them, so the drainer and that request do not both apply them. A user erased meanwhile has what the drain wrote erased again (core/erasure/ingest-guard.ts).
 * Order caveat: an event applied late lands after newer ones in the history lists (the nightly, which reads
 * Postgres, is unaffected).
 */
import type { EventType } from '../shared/catalog/types.ts';
import type { FeatureStore } from '../core/ports/feature-store.ts';
import { eraseWrittenForLateErasures } from '../core/erasure/ingest-guard.ts';
import type { DatabaseHandle } from '../adapters/postgres/database.ts';
import { postgresErasureMarker } from '../adapters/postgres/erasure-marker.ts';
import { deleteEvents, drainPendingFeatures } from '../adapters/postgres/repository.ts';

const BATCH = 500;

export interface FeatureOutbox {
  /** Applies every pending event now (resolves with how many); never rejects. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export function startFeatureOutbox(options: { database: DatabaseHandle; featureStore: FeatureStore; intervalMs: number; graceMs: number; log: (line: Record<string, unknown>) => void }): FeatureOutbox {
  const { database, featureStore, log } = options;
  const marker = postgresErasureMarker(database);
  let running: Promise<number> = Promise.resolve(0);

  const drainOnce = async (): Promise<number> => {
    if (!(await featureStore.ping())) return 0;
    let total = 0;
    for (;;) {
      const db = await database.get();
      const applied = await drainPendingFeatures(db, BATCH, async (rows, tx) => {
        const interactions = rows.map((r) => ({ userId: r.userId ?? undefined, sessionId: r.sessionId, itemId: r.itemId, type: r.type as EventType, ts: r.ts }));
        await featureStore.recordMany(interactions);
        await eraseWrittenForLateErasures({ marker, deleteEvents: (ids) => deleteEvents(tx, ids), featureStore }, interactions.map((e, i) => ({ ...e, eventId: rows[i]!.eventId })));
      }, options.graceMs);
      total += applied;
      if (applied < BATCH) return total;
    }
  };

  const drain = (): Promise<number> => {
    running = running.then(drainOnce).then(
      (n) => {
        if (n > 0) log({ component: 'feature-outbox', applied: n });
        return n;
      },
      (error: unknown) => {
        log({ component: 'feature-outbox', level: 'warn', error: error instanceof Error ? error.message : String(error) });
        return 0;
      },
    );
    return running;
  };

  const timer = options.intervalMs > 0 ? setInterval(() => void drain(), options.intervalMs) : undefined;
  timer?.unref();
  return {
    drain,
    async stop() {
      if (timer) clearInterval(timer);
      await running.catch(() => 0);
    },
  };
}
