/**
 * Who is asking: a user proven by a signed token from the site's backend (shared/auth/user-token.ts), or an
 * anonymous visitor. A user id without a valid token is never trusted: the request is answered as anonymous
 * (segment/popular slate, reranked only with the items the browser itself sent), and the reason is named in
 * `degraded` so an integrator sees why. A browser page from an origin that is not in ALLOWED_ORIGINS never
 * gets a personal answer either, even with a valid token (defence in depth for a leaked token).
 */
import { verifyUserToken } from '../../shared/auth/user-token.ts';

export type AnonymousReason = 'user-token-missing' | 'user-token-invalid' | 'user-token-expired' | 'user-tokens-not-configured' | 'origin-not-allowed';
export type Visitor = { kind: 'user'; userId: string } | { kind: 'anonymous'; because: AnonymousReason | null };

export interface IdentityInput {
  user: string | undefined;
  token: string | undefined;
  /** The request's Origin header (browsers send it on cross-origin requests). */
  origin: string | undefined;
}

export interface IdentityConfig {
  userTokenSecrets: readonly string[];
  allowedOrigins: readonly string[];
}

export async function identifyVisitor(input: IdentityInput, config: IdentityConfig, nowMs: number): Promise<Visitor> {
  if (input.user === undefined) return { kind: 'anonymous', because: null };
  if (input.origin !== undefined && !config.allowedOrigins.includes(input.origin)) return { kind: 'anonymous', because: 'origin-not-allowed' };
  const check = await verifyUserToken(config.userTokenSecrets, input.user, input.token, nowMs);
  if (check.ok) return { kind: 'user', userId: check.userId };
  switch (check.reason) {
    case 'not-configured':
      return { kind: 'anonymous', because: 'user-tokens-not-configured' };
    case 'missing':
      return { kind: 'anonymous', because: 'user-token-missing' };
    case 'expired':
      return { kind: 'anonymous', because: 'user-token-expired' };
    default:
      return { kind: 'anonymous', because: 'user-token-invalid' };
  }
}

/**
 * CORS for GET /v1/recommendations. Anonymous answers hold nothing private: any page may read them (`*`).
 * Personal answers are only produced for allowed origins (see identifyVisitor) and are readable only by the
 * page that asked: its origin is echoed, never `*`. Same-origin pages and non-browser clients send no Origin.
 */
export function recommendationCors(visitor: Visitor, origin: string | undefined): Record<string, string> {
  if (visitor.kind === 'anonymous') return { 'access-control-allow-origin': '*', vary: 'Origin' };
  return origin === undefined ? { vary: 'Origin' } : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/**
 * Preflight for the widget's `X-User-Token` header. Any page may send it (a page that is not allowed simply
 * gets the anonymous answer); allowed origins are echoed. Cached by browsers for up to two hours.
 */
export function recommendationPreflight(origin: string | undefined, allowedOrigins: readonly string[]): Record<string, string> {
  return {
    'access-control-allow-origin': origin !== undefined && allowedOrigins.includes(origin) ? origin : '*',
    'access-control-allow-methods': 'GET',
    'access-control-allow-headers': 'x-user-token',
    'access-control-max-age': '7200',
    vary: 'Origin',
  };
}
