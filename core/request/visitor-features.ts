/**
 * Gathers what the pipeline needs about a visitor from the feature store (build-request.ts turns it into a
 * PipelineRequest). When the store fails (Redis down, command timeout) the request continues without online
 * features and says so ('redis-unavailable').
 */
import { withTimeout } from '../../shared/util/timeout.ts';
import type { FeatureStore } from '../ports/feature-store.ts';

export interface VisitorFeatures {
  history: string[];
  purchased: string[];
  storedSessionItems: string[];
  segment: string | undefined;
  degraded: string[];
  /** 'hit' when any state was found, 'miss' when none, 'error' when the store failed. */
  lookup: 'hit' | 'miss' | 'error';
}

export async function visitorFeatures(store: FeatureStore, ids: { userId?: string | undefined; sessionId?: string | undefined }, timeoutMs: number): Promise<VisitorFeatures> {
  const { userId, sessionId } = ids;
  const work = Promise.all([
    userId ? store.userHistory(userId) : Promise.resolve([]),
    userId ? store.purchased(userId) : Promise.resolve([]),
    sessionId ? store.sessionItems(sessionId) : Promise.resolve([]),
    userId ? store.userFeatures(userId) : Promise.resolve({} as Record<string, string>),
  ]);
  try {
    const [history, purchased, storedSessionItems, features] = await withTimeout(work, timeoutMs);
    const found = history.length + purchased.length + storedSessionItems.length + Object.keys(features).length > 0;
    return { history, purchased, storedSessionItems, segment: features.segment, degraded: [], lookup: found ? 'hit' : 'miss' };
  } catch {
    work.catch(() => undefined); // the late rejection is expected and already accounted for
    return { history: [], purchased: [], storedSessionItems: [], segment: undefined, degraded: ['redis-unavailable'], lookup: 'error' };
  }
}
