/** Calls the origin within a time budget; any failure is reported as a reason, never thrown. */
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
    if (!response.ok) return { ok: false, reason: 'origin-error' };
    const parsed = RecommendResponseSchema.safeParse(await response.json());
    return parsed.success ? { ok: true, response: parsed.data } : { ok: false, reason: 'origin-error' };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, reason: timedOut ? 'origin-timeout' : 'origin-error' };
  }
}

/** Posts an event batch; true when the origin stored it (2xx). */
export async function forwardEvents(client: OriginClient, batch: EventBatch, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${client.url}/v1/events`, {
      method: 'POST',
      headers: headers(client),
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.ok;
  } catch {
    return false;
  }
}
