/**
 * Online feature store port: session state and user features written by event ingestion and read by the
 * pipeline. Two real adapters: Redis via ioredis (production, integration tests) and an in-process store
 * with the same semantics (caps, TTLs) for the embedded demo.
 */
import type { EventType } from '../../shared/catalog/types.ts';

/** How many items a session list keeps; older entries fall off (LTRIM semantics). The user history's cap is USER_HISTORY_CAP (shared/features/history.ts). */
export const SESSION_ITEMS_CAP = 50;
export const SESSION_TTL_SECONDS = 60 * 60 * 24;

export interface ItemStats {
  impressions: number;
  clicks: number;
}

export interface RecordedInteraction {
  userId?: string | undefined;
  sessionId: string;
  itemId: string;
  type: EventType;
  ts: number;
}

/** A user's whole state, written in bulk (demo seeding from the generator's histories). */
export interface SeededUser {
  userId: string;
  /** Oldest → newest; the store keeps the newest USER_HISTORY_CAP. */
  history: readonly string[];
  purchased: readonly string[];
  features: Record<string, string>;
}

export interface FeatureStore {
  /** Applies one interaction to session list, user history/hash and item stats. */
  record(event: RecordedInteraction): Promise<void>;
  recordMany(events: readonly RecordedInteraction[]): Promise<void>;
  /** Items the session interacted with positively, oldest → newest (at most SESSION_ITEMS_CAP). */
  sessionItems(sessionId: string): Promise<string[]>;
  /** Items the user interacted with positively, oldest → newest (at most USER_HISTORY_CAP). */
  userHistory(userId: string): Promise<string[]>;
  /** Items the user bought (never recommended again by the business rules). */
  purchased(userId: string): Promise<string[]>;
  /** User features hash (segment, counters). */
  userFeatures(userId: string): Promise<Record<string, string>>;
  setUserFeatures(userId: string, fields: Record<string, string>): Promise<void>;
  /** Impression/click counts per item, for exploration (Thompson sampling). */
  itemStats(itemIds: readonly string[]): Promise<Map<string, ItemStats>>;
  /** Replaces the state of many users at once (pipelined on Redis). */
  seedUsers(users: readonly SeededUser[]): Promise<void>;
  /** Erases everything stored for a user (GDPR delete), with the session lists of the user's sessions. */
  eraseUser(userId: string, sessionIds?: readonly string[]): Promise<void>;
  /** True when the backing service answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
