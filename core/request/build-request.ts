/**
 * The one request builder: POST /v1/recommend, the live export (GET /v1/export?source=live) and the nightly
 * job all turn what they know about a visitor into a PipelineRequest here, under one set of rules:
 * - history: oldest → newest, the newest USER_HISTORY_CAP kept (the feature stores keep the same number);
 * - session items: the stored ones then the request's (the widget may know newer ones), de-duplicated keeping
 *   the latest position, the newest SESSION_ITEMS_CAP kept;
 * - never recommended: the explicit excludes, the purchases and the newest JUST_SEEN session items.
 */
import { USER_HISTORY_CAP } from '../../shared/features/history.ts';
import type { PipelineSettingsOverride } from '../pipeline/settings.ts';
import type { PipelineRequest } from '../pipeline/types.ts';
import { SESSION_ITEMS_CAP } from '../ports/feature-store.ts';

/** How many of the newest session items are never recommended back (the visitor just saw them). */
export const JUST_SEEN = 10;

/** What is known about the visitor; every list is oldest → newest. */
export interface VisitorState {
  userId?: string | undefined;
  sessionId?: string | undefined;
  segment?: string | undefined;
  history?: readonly string[] | undefined;
  purchased?: readonly string[] | undefined;
  /** The session list from the feature store. */
  storedSessionItems?: readonly string[] | undefined;
  /** Session items the request itself names (the widget's recent views). */
  requestSessionItems?: readonly string[] | undefined;
  /** Items the caller asks never to get back. */
  excludeIds?: readonly string[] | undefined;
}

/** What is asked: slate size, surface, the time it is answered at, and the knobs a caller may set. */
export interface RequestShape {
  surface: string;
  k: number;
  now: number;
  /** 0 for deterministic slates (nightly, export); absent = the pipeline setting. */
  explorationSlots?: number | undefined;
  settings?: PipelineSettingsOverride | undefined;
}

export function buildPipelineRequest(visitor: VisitorState, shape: RequestShape): PipelineRequest {
  const sessionItems = mergeSessionItems(visitor.storedSessionItems ?? [], visitor.requestSessionItems ?? [], SESSION_ITEMS_CAP);
  const history = visitor.history ?? [];
  return {
    userId: visitor.userId,
    sessionId: visitor.sessionId,
    segment: visitor.segment,
    surface: shape.surface,
    k: shape.k,
    history: history.length > USER_HISTORY_CAP ? history.slice(-USER_HISTORY_CAP) : history,
    sessionItems,
    excludeIds: [...new Set([...(visitor.excludeIds ?? []), ...(visitor.purchased ?? []), ...sessionItems.slice(-JUST_SEEN)])],
    now: shape.now,
    explorationSlots: shape.explorationSlots,
    settings: shape.settings,
  };
}

/** Stored session items then the request's, de-duplicated keeping the latest position, the newest `cap` kept. */
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
