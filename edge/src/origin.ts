/** Calls the origin within a time budget; any failure is reported as a reason or a status, never thrown. */
import { RecommendResponseSchema, type RecommendRequest, type RecommendResponse } from '../../shared/contracts/recommend.ts';
import type { EventBatch } from '../../shared/contracts/events.ts';

export type OriginResult = { ok: true; response: RecommendResponse } | { ok: false; reason: 'origin-timeout' | 'origin-error' };

export interface OriginClient {
  url: string;
  timeoutMs: number;
  apiKey?: string | undefined;
}

function headers(client: OriginClient): Record<string, string> {
  return { 'content-type': 'application/json', ...(client.apiKey ? { 'x-api-key': client.apiKey } : {}) };
}

export async function recommendFromOrigin(client: OriginClient, request: RecommendRequest): Promise<OriginResult> {
  try {
    const response = await fetch(`${client.url}/v1/recommend`, {
      method: 'POST',
      headers: headers(client),
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(client.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: 'origin-error' };
    }
    const parsed = RecommendResponseSchema.safeParse(await response.json());
    return parsed.success ? { ok: true, response: parsed.data } : { ok: false, reason: 'origin-error' };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, reason: timedOut ? 'origin-timeout' : 'origin-error' };
  }
}

/**
 * The origin's answer to an event batch: stored (with how many user ids it did not accept: > 0 means the edge's
 * ORIGIN_API_KEY is missing or not one of the origin's API_KEYS), or why not (status 0: no answer at all).
 */
export type ForwardResult = { ok: true; anonymised: number } | { ok: false; status: number; retryAfterSeconds: number | null; reason: string };

/** Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Posts an event batch to the origin's POST /v1/events. */
export async function forwardEvents(client: OriginClient, batch: EventBatch, timeoutMs: number): Promise<ForwardResult> {
  try {
    const response = await fetch(`${client.url}/v1/events`, {
      method: 'POST',
      headers: headers(client),
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (response.ok) {
      let anonymised = 0;
      try {
        const value = (JSON.parse(text) as { anonymised?: unknown }).anonymised;
        if (typeof value === 'number') anonymised = value;
      } catch {
        // a 2xx without a JSON body: stored, nothing more to learn
      }
      return { ok: true, anonymised };
    }
    return { ok: false, status: response.status, retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after'), Date.now()), reason: text.slice(0, 1000) };
  } catch (error) {
    return { ok: false, status: 0, retryAfterSeconds: null, reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}
