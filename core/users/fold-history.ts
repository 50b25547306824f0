/**
 * Folds a user's interactions (oldest → newest) into what the nightly and the request builder need: the
 * history under the shared rule (shared/features/history.ts: positive interactions, an immediate repeat
 * collapsed, the newest USER_HISTORY_CAP kept, as the feature stores keep it) and the purchased items.
 * Used by every UserSource adapter that rebuilds users from events (the generator, Postgres).
 */
import type { EventType } from '../../shared/catalog/types.ts';
import { shouldAppend, USER_HISTORY_CAP } from '../../shared/features/history.ts';

export interface HistoryEvent {
  type: EventType;
  itemId: string;
}

export interface FoldedHistory {
  history: string[];
  purchased: string[];
}

export function foldHistory(events: Iterable<HistoryEvent>): FoldedHistory {
  const history: string[] = [];
  const purchased = new Set<string>();
  for (const event of events) {
    if (shouldAppend(event.type, event.itemId, history.at(-1))) history.push(event.itemId);
    if (event.type === 'purchase') purchased.add(event.itemId);
  }
  return { history: history.length > USER_HISTORY_CAP ? history.slice(-USER_HISTORY_CAP) : history, purchased: [...purchased] };
}
