/**
 * Who may write into a user's history. An event's `userId` is kept only when the request proves it: a valid
 * user token for that id (the same token that unlocks personal reads) — or, at the origin, an API key, which
 * the edge presents after it has done this check itself. Any other userId is removed and the event is kept as
 * an anonymous session event, so a forged beacon cannot pollute another user's history or recommendations,
 * and nothing a browser sent is lost. One token proves one user, so at most a few distinct ids are checked.
 */
import type { EventBatch } from '../contracts/events.ts';
import type { UserTokenFailure } from './user-token.ts';

/** Distinct user ids checked against the token per batch; the others are anonymised without a check. */
const MAX_CHECKED_USERS = 4;

/** Proven, or not with the degraded reason the answer names (user-token-missing, -invalid, -expired, …). */
export type UserCheck = { ok: true } | { ok: false; degraded: string };

export interface AttributedEvents {
  batch: EventBatch;
  /** Events whose userId was removed. */
  anonymised: number;
  /** Why (degraded reason of the first refused id: user-token-missing, -invalid, -expired, …); null when none was. */
  reason: string | null;
}

/** The degraded reason for a token check that failed (the same names as personal reads use). */
export function anonymousReason(failure: UserTokenFailure | 'origin-not-allowed'): string {
  switch (failure) {
    case 'missing':
      return 'user-token-missing';
    case 'not-configured':
      return 'user-tokens-not-configured';
    case 'expired':
      return 'user-token-expired';
    case 'origin-not-allowed':
      return 'origin-not-allowed';
    default:
      return 'user-token-invalid';
  }
}

/** Keeps each event's userId only when `check` proves it; the rest lose their userId (nothing is dropped). */
export async function attributeEvents(batch: EventBatch, check: (userId: string) => Promise<UserCheck>): Promise<AttributedEvents> {
  const proven = new Set<string>();
  let reason: string | null = null;
  const ids = [...new Set(batch.events.map((e) => e.userId).filter((id): id is string => id !== undefined))];
  for (const id of ids.slice(0, MAX_CHECKED_USERS)) {
    const result = await check(id);
    if (result.ok) proven.add(id);
    else reason ??= result.degraded;
  }
  if (ids.length > MAX_CHECKED_USERS && reason === null) reason = 'user-token-invalid';
  let anonymised = 0;
  const events = batch.events.map((event) => {
    if (event.userId === undefined || proven.has(event.userId)) return event;
    anonymised += 1;
    const { userId: _dropped, ...rest } = event;
    return rest;
  });
  return { batch: { events }, anonymised, reason };
}
