/**
 * POST /v1/events: validated batch → user ids kept only where proven (API key or user token,
 * http/event-users.ts; the rest stored as session events) → Postgres (ON CONFLICT DO NOTHING on the event id) → feature store for
 * the rows written now. Events of erased users are left out, and a user erased while the batch was being
 * written has its rows and features erased again (core/erasure/ingest-guard.ts). Postgres is the record: when it is down the batch is refused with 503 + Retry-After
 * (the client keeps it and retries; nothing is half-accepted). A feature-store failure after the write is
 * flagged, not an error: the events are stored (the nightly sees them) and stay in the feature outbox
 * (features_pending) until the drainer applies them once Redis is back (origin/feature-outbox.ts).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { EventBatchResultSchema, EventBeaconSchema } from '../../shared/contracts/events.ts';
import { provenEvents } from '../http/event-users.ts';
import type { OriginDeps } from '../deps.ts';
import { assignAll } from '../experiments/assign.ts';
import { withTimeout } from '../../shared/util/timeout.ts';
import { readJsonBody } from '../http/json-body.ts';
import { problem } from '../http/problems.ts';
import { deleteEvents, featuresApplied, insertEvents, type StoredEvent } from '../../adapters/postgres/repository.ts';
import { postgresErasureMarker } from '../../adapters/postgres/erasure-marker.ts';
import { eraseWrittenForLateErasures, leaveOutErased } from '../../core/erasure/ingest-guard.ts';

export const EventIngestResultSchema = EventBatchResultSchema.extend({ degraded: z.array(z.string()) });

export function registerEvents(app: Hono, deps: OriginDeps): void {
  const { metrics, catalog } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  const marker = postgresErasureMarker(deps.database);
  app.post('/v1/events', async (c) => {
    const beacon = await readJsonBody(c, EventBeaconSchema);
    if (!beacon.ok) return problem(c, beacon.status, beacon.error, beacon.reasons);
    const attributed = await provenEvents(beacon.value, (name) => c.req.header(name), deps.config, now());
    const body = { value: attributed.batch };
    // An event about an item the catalogue does not know would be a bad row forever; refuse the batch.
    const unknown = catalog.size === 0 ? [] : [...new Set(body.value.events.map((e) => e.itemId).filter((id) => catalog.get(id) === undefined))];
    if (unknown.length > 0) return problem(c, 400, 'unknown item ids', unknown.slice(0, 20).map((id) => `itemId: unknown item ${id}`));

    const receivedAt = now();
    const experiments = deps.experiments.current();
    const batch: StoredEvent[] = body.value.events.map((e) => ({
      ...e,
      ts: e.ts ?? receivedAt,
      // The variant is recorded on every event: the client echoes the response's, else it is assigned here.
      variant: e.variant !== undefined ? e.variant : assignAll(experiments, e, e.surface ?? 'home').variant,
    }));

    let written;
    let erased = 0;
    try {
      const allowed = await leaveOutErased(marker, batch);
      erased = allowed.erased;
      written = await insertEvents(await deps.database.get(), allowed.kept, { featuresPending: true });
    } catch (error) {
      metrics.events.inc({ result: 'rejected-db-unavailable' }, batch.length);
      log({ component: 'events', level: 'warn', error: error instanceof Error ? error.message : String(error) });
      return problem(c, 503, 'event store unavailable, retry the same batch later (event ids make it idempotent)', undefined, { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) });
    }
    metrics.events.inc({ result: 'accepted' }, written.inserted.length);
    metrics.events.inc({ result: 'duplicate' }, written.duplicates);

    const degraded: string[] = attributed.reason === null ? [] : [attributed.reason];
    if (attributed.anonymised > 0) metrics.events.inc({ result: 'anonymised' }, attributed.anonymised);
    try {
      await withTimeout(deps.featureStore.recordMany(written.inserted), deps.config.REDIS_COMMAND_TIMEOUT_MS * 4 + 500);
      try {
        await featuresApplied(await deps.database.get(), written.inserted.map((e) => e.eventId));
      } catch {
        // Left pending: the drainer applies them once more (only item counters can count an event twice).
      }
    } catch {
      degraded.push('redis-unavailable');
      metrics.fallbacks.inc({ reason: 'redis-unavailable' });
      metrics.events.inc({ result: 'feature-store-failed' }, written.inserted.length);
    }
    try {
      const late = await eraseWrittenForLateErasures({ marker, deleteEvents: async (ids) => deleteEvents(await deps.database.get(), ids), featureStore: deps.featureStore }, written.inserted);
      if (late.length > 0) log({ component: 'events', level: 'info', message: 'users erased while their events were written: erased again', users: late.length });
    } catch (error) {
      // The erasure's own later steps still delete what this batch wrote; its retry covers the rest.
      log({ component: 'events', level: 'warn', message: 'late-erasure check failed', error: error instanceof Error ? error.message : String(error) });
    }
    if (erased > 0) metrics.events.inc({ result: 'erased-user' }, erased);
    return c.json(EventIngestResultSchema.parse({ accepted: written.inserted.length, duplicates: written.duplicates, ...(attributed.anonymised > 0 ? { anonymised: attributed.anonymised } : {}), ...(erased > 0 ? { erased } : {}), degraded }));
  });
}
