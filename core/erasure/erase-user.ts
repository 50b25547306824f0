/**
 * Erasing a user everywhere the system stores them, in an order that makes it stick:
 *   1. the erasure marker (Postgres user_deletions) — from here on every writer (event ingestion, the nightly
 *      before each batch of KV writes, exports) leaves the user out;
 *   2. the user's online features and the Redis session lists of every session their stored events name;
 *   3. their precomputed slates in KV (every stored version);
 *   4. their events and profile row in Postgres — last, since step 2 reads the session ids from the events.
 * Any step failing stops with the step's name; a retry runs every step again (each is idempotent), so a
 * partial erasure is always completed by the client's retry. A write racing with the erasure either finished
 * before step 1 (then steps 2–4 delete it) or sees the marker (core/erasure/ingest-guard.ts).
 */
import type { FeatureStore } from '../ports/feature-store.ts';

export interface UserErasurePorts {
  markErased(userId: string): Promise<void>;
  sessionsOf(userId: string): Promise<string[]>;
  featureStore: Pick<FeatureStore, 'eraseUser'>;
  /** Absent when no slate store is configured (then the answer says so). */
  eraseSlates?: ((userId: string) => Promise<void>) | undefined;
  eraseRows(userId: string): Promise<{ events: number }>;
}

export type ErasureStep = 'marker' | 'features' | 'slates' | 'events';

export type ErasureResult =
  | { ok: true; events: number; sessions: number; slates: 'erased' | 'not-configured' }
  | { ok: false; failed: ErasureStep; error: unknown };

export async function eraseUser(userId: string, ports: UserErasurePorts): Promise<ErasureResult> {
  let sessions: string[];
  try {
    await ports.markErased(userId);
    sessions = await ports.sessionsOf(userId);
  } catch (error) {
    return { ok: false, failed: 'marker', error };
  }
  try {
    await ports.featureStore.eraseUser(userId, sessions);
  } catch (error) {
    return { ok: false, failed: 'features', error };
  }
  if (ports.eraseSlates) {
    try {
      await ports.eraseSlates(userId);
    } catch (error) {
      return { ok: false, failed: 'slates', error };
    }
  }
  try {
    const { events } = await ports.eraseRows(userId);
    return { ok: true, events, sessions: sessions.length, slates: ports.eraseSlates ? 'erased' : 'not-configured' };
  } catch (error) {
    return { ok: false, failed: 'events', error };
  }
}
