/**
 * Signed user tokens: proof, issued by the site's own backend, that the visitor is `userId` until `exp`.
 * The site and the edge (and the origin) share a secret; the token is HMAC-SHA256 over "v1|<userId>|<exp>":
 *
 *   token = "v1." + exp + "." + base64url(HMAC_SHA256(secret, "v1|" + userId + "|" + exp))     exp: epoch seconds
 *
 * The user id is not inside the token: the verifier takes it from the request and recomputes the MAC, so a
 * token for one user never verifies for another. '|' cannot occur in ids (shared/contracts id rule), so the
 * signed message is unambiguous. Rotation: verification accepts the current and the previous secret.
 * Pure WebCrypto (workerd and Node ≥ 20); the MAC check is `crypto.subtle.verify`, a constant-time compare.
 */

export const USER_TOKEN_VERSION = 'v1';
/** Tokens whose expiry lies further ahead are refused: a leaked token must stop working soon. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Shortest secret accepted (characters): 32 random characters ≈ 190 bits or more. */
export const MIN_SECRET_LENGTH = 32;

export type UserTokenFailure = 'missing' | 'malformed' | 'expired' | 'too-long-lived' | 'bad-signature' | 'not-configured';
export type UserTokenCheck = { ok: true; userId: string; expiresAt: number } | { ok: false; reason: UserTokenFailure };

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

function message(userId: string, exp: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(`${USER_TOKEN_VERSION}|${userId}|${exp}`));
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Mints a token (what the site's backend does; also used by tests and the demo launcher). */
export async function signUserToken(secret: string, userId: string, expiresAtSeconds: number): Promise<string> {
  const exp = Math.floor(expiresAtSeconds);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), message(userId, exp)));
  return `${USER_TOKEN_VERSION}.${exp}.${toBase64Url(mac)}`;
}

/**
 * Checks `token` for `userId` against every configured secret (current first, then previous).
 * `nowMs`: the verifier's clock. Never throws for a hostile token; answers why it was refused.
 */
export async function verifyUserToken(secrets: readonly string[], userId: string, token: string | undefined | null, nowMs: number): Promise<UserTokenCheck> {
  if (secrets.length === 0) return { ok: false, reason: 'not-configured' };
  if (token === undefined || token === null || token === '') return { ok: false, reason: 'missing' };
  if (token.length > 128) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== USER_TOKEN_VERSION || !/^\d{1,12}$/.test(parts[1] ?? '')) return { ok: false, reason: 'malformed' };
  const exp = Number(parts[1]);
  const mac = fromBase64Url(parts[2] ?? '');
  if (!mac || mac.length !== 32) return { ok: false, reason: 'malformed' };
  // The MAC first: an attacker learns nothing about expiry rules from a token they could not sign.
  let valid = false;
  for (const secret of secrets) {
    if (await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, message(userId, exp))) valid = true;
  }
  if (!valid) return { ok: false, reason: 'bad-signature' };
  const nowSeconds = nowMs / 1000;
  if (exp <= nowSeconds) return { ok: false, reason: 'expired' };
  if (exp > nowSeconds + MAX_TOKEN_LIFETIME_SECONDS) return { ok: false, reason: 'too-long-lived' };
  return { ok: true, userId, expiresAt: exp };
}

/** The configured secrets in verification order; blank ones are left out. Throws on a secret that is too short. */
export function tokenSecrets(current: string | undefined, previous: string | undefined): string[] {
  const secrets = [current, previous].filter((s): s is string => s !== undefined && s !== '');
  for (const s of secrets) if (s.length < MIN_SECRET_LENGTH) throw new Error(`user token secrets need at least ${MIN_SECRET_LENGTH} characters`);
  return secrets;
}
