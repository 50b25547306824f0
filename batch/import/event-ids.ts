/**
 * What an imported event lacks, made deterministic: its id (a hash of userId, itemId, type and ts, so the
 * same row imported twice has the same id and ON CONFLICT stores it once) and its session (per user, a new
 * session after 30 minutes without events, in file order). Node-only (node:crypto).
 */
import { createHash } from 'node:crypto';
import type { EventRow } from '../../shared/contracts/import.ts';

export const SESSION_GAP_MS = 30 * 60_000;

/** `imp-` + 22 base64url characters (128 bits of SHA-256): no collision in any realistic import. */
export function derivedEventId(row: Pick<EventRow, 'userId' | 'itemId' | 'type' | 'ts'>): string {
  return `imp-${createHash('sha256').update(`${row.userId}\u0000${row.itemId}\u0000${row.type}\u0000${row.ts}`).digest('base64url').slice(0, 22)}`;
}

/** Session ids for rows without one: memory grows with the number of users, not rows. */
export class SessionAssigner {
  private readonly last = new Map<string, { ts: number; id: string }>();

  sessionOf(userId: string, ts: number): string {
    const previous = this.last.get(userId);
    if (previous && Math.abs(ts - previous.ts) <= SESSION_GAP_MS) {
      previous.ts = ts;
      return previous.id;
    }
    const readable = `${userId}.s${ts.toString(36)}`;
    const id = readable.length <= 64 ? readable : `s-${createHash('sha256').update(`${userId}\u0000${ts}`).digest('base64url').slice(0, 22)}`;
    this.last.set(userId, { ts, id });
    return id;
  }
}
