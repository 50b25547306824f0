/**
 * Event ingestion cannot bring an erased user back (issue 12.3). Before the write, events of users the
 * marker names are left out (acknowledged, not stored: the user asked to be forgotten). After the write —
 * rows stored and features applied — the marker is asked again: a user erased while this batch was in flight
 * (the erasure's marker committed after the first check) has this batch's rows, history and session lists
 * erased again. With the erasure writing its marker before deleting anything (erase-user.ts), every
 * interleaving ends with nothing of the user left.
 */
import type { FeatureStore } from '../ports/feature-store.ts';
import { withoutErased, type ErasureMarker } from './marker.ts';

interface UserEvent {
  eventId: string;
  userId?: string | undefined;
  sessionId: string;
}

/** Events whose user is not erased, and how many were left out. */
export async function leaveOutErased<T extends UserEvent>(marker: ErasureMarker, events: readonly T[]): Promise<{ kept: T[]; erased: number }> {
  const kept = await withoutErased(marker, events, (e) => e.userId);
  return { kept, erased: events.length - kept.length };
}

export interface LateErasurePorts {
  marker: ErasureMarker;
  deleteEvents(eventIds: readonly string[]): Promise<number>;
  featureStore: Pick<FeatureStore, 'eraseUser'>;
}

/** After writing `written`: erases again what it wrote for users erased meanwhile. Returns those users. */
export async function eraseWrittenForLateErasures(ports: LateErasurePorts, written: readonly UserEvent[]): Promise<string[]> {
  const ids = [...new Set(written.map((e) => e.userId).filter((id): id is string => id !== undefined))];
  if (ids.length === 0) return [];
  const erased = await ports.marker.erased(ids);
  if (erased.size === 0) return [];
  const theirs = written.filter((e) => e.userId !== undefined && erased.has(e.userId));
  await ports.deleteEvents(theirs.map((e) => e.eventId));
  for (const userId of erased) {
    const sessions = [...new Set(theirs.filter((e) => e.userId === userId).map((e) => e.sessionId))];
    await ports.featureStore.eraseUser(userId, sessions);
  }
  return [...erased];
}
