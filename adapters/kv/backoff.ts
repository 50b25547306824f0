/**
 * Retry policy for the Cloudflare REST adapter: exponential backoff with full jitter, capped, and a server's
 * Retry-After (seconds or HTTP date) taking precedence when it asks for longer. Pure, so it is unit-tested.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, maxAttempts: 8 };

/** Whether a response status is worth retrying (rate limited or a server-side failure). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from `now`; undefined when absent/invalid. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before retry number `attempt` (1-based): full jitter over min(max, base·2^(attempt-1)), at least Retry-After. */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: number, retryAfter?: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random * ceiling);
  return retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retryAfter, policy.maxMs * 4));
}
