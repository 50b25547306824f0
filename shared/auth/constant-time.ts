/**
 * Constant-time comparison of two secrets (API keys, admin keys) with WebCrypto only, for workerd and Node:
 * both sides are hashed with SHA-256 first, so lengths never leak and the byte loop always runs 32 times.
 */
const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** True when `presented` equals any of `expected` (every candidate is compared; no early exit). */
export async function matchesAnySecret(presented: string | undefined, expected: readonly string[]): Promise<boolean> {
  if (presented === undefined || presented === '') return false;
  let match = false;
  for (const key of expected) if (await secretsEqual(presented, key)) match = true;
  return match;
}
