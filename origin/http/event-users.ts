/**
 * Which user ids an event batch posted to the origin may carry. The edge (and any server-to-server caller)
 * presents an API key: its batches are trusted, the edge having checked the user tokens itself. Anyone else
 * proves a user id with a user token (X-User-Token header or the body's `userToken`); events with an unproven
 * userId are stored without it, as session events (shared/auth/event-users.ts).
 */
import { attributeEvents, anonymousReason, type AttributedEvents } from '../../shared/auth/event-users.ts';
import { tokenSecrets, verifyUserToken } from '../../shared/auth/user-token.ts';
import type { EventBeacon } from '../../shared/contracts/events.ts';
import type { AppConfig } from '../deps.ts';
import { hasApiKey } from './api-key.ts';

export async function provenEvents(
  beacon: EventBeacon,
  header: (name: string) => string | undefined,
  config: Pick<AppConfig, 'API_KEYS' | 'USER_TOKEN_SECRET' | 'USER_TOKEN_SECRET_PREVIOUS'>,
  nowMs: number,
): Promise<AttributedEvents> {
  const batch = { events: beacon.events };
  if (hasApiKey(config.API_KEYS, header)) return { batch, anonymised: 0, reason: null };
  const secrets = tokenSecrets(config.USER_TOKEN_SECRET, config.USER_TOKEN_SECRET_PREVIOUS);
  const token = beacon.userToken ?? header('x-user-token');
  return attributeEvents(batch, async (userId) => {
    const check = await verifyUserToken(secrets, userId, token, nowMs);
    return check.ok ? { ok: true } : { ok: false, degraded: anonymousReason(check.reason) };
  });
}
