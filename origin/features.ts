/**
 * Gathers what the pipeline needs about a visitor from the feature store. When the store fails (Redis down,
 * command timeout) the request continues without online features and says so ('redis-unavailable').
 */
import type { FeatureStore } from './store/feature-store.ts';

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

/** Stored session items then the request's (the widget may know newer ones), de-duplicated keeping the latest position. */
export function mergeSessionItems(stored: readonly string[], fromRequest: readonly string[], cap: number): string[] {
  const merged = [...stored, ...fromRequest];
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = merged.length - 1; i >= 0 && out.length < cap; i--) {
    const id = merged[i]!;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out.reverse();
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
