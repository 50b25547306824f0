/**
 * Which user a POST /v1/recommend may be answered for. A `userId` in the body is honoured only with proof:
 * a valid user token for that id (X-User-Token, signed by the site's backend; shared/auth/user-token.ts) or
 * a valid API key (server-to-server callers, e.g. the edge with its ORIGIN_API_KEY). Otherwise the request
 * is answered as the anonymous session it also names, and `degraded` says why — the user's history, purchases
 * and features are never read, so no reason can name an item the server remembers about that user.
 */
import { tokenSecrets, verifyUserToken } from '../../shared/auth/user-token.ts';
import type { AppConfig } from '../deps.ts';
import { hasApiKey } from './api-key.ts';

export type UserProof = { userId: string | undefined; degraded: string[] };

export async function provenUserId(
  userId: string | undefined,
  header: (name: string) => string | undefined,
  config: Pick<AppConfig, 'API_KEYS' | 'USER_TOKEN_SECRET' | 'USER_TOKEN_SECRET_PREVIOUS'>,
  nowMs: number,
): Promise<UserProof> {
  if (userId === undefined) return { userId: undefined, degraded: [] };
  if (hasApiKey(config.API_KEYS, header)) return { userId, degraded: [] };
  const check = await verifyUserToken(tokenSecrets(config.USER_TOKEN_SECRET, config.USER_TOKEN_SECRET_PREVIOUS), userId, header('x-user-token'), nowMs);
  if (check.ok) return { userId, degraded: [] };
  const reason = check.reason === 'missing' || check.reason === 'not-configured' ? 'user-token-missing' : check.reason === 'expired' ? 'user-token-expired' : 'user-token-invalid';
  return { userId: undefined, degraded: [reason] };
}
