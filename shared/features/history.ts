/**
 * The one rule for what enters a visitor's history: positive interactions (view, add to cart, purchase),
 * with an immediate repeat of the same item collapsed (a view followed by add-to-cart of that item is one
 * step). The trainer's preparation and the online feature stores both apply it, so the user tower sees
 * the same sequences in training and serving.
 */
import type { EventType } from '../catalog/types.ts';

const HISTORY_EVENT_TYPES: ReadonlySet<EventType> = new Set(['view', 'add_to_cart', 'purchase']);

export function entersHistory(type: EventType): boolean {
  return HISTORY_EVENT_TYPES.has(type);
}

/** True when the event should be appended to a history whose newest item is `lastItemId`. */
export function shouldAppend(type: EventType, itemId: string, lastItemId: string | undefined): boolean {
  return entersHistory(type) && itemId !== lastItemId;
}
