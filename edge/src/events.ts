/**
 * POST /v1/events: beacons from the widget. Validated here (400 with the reason), then forwarded to the
 * origin. The answer waits for the origin up to a small budget; if the origin is slower, forwarding goes on
 * after the answer (ctx.waitUntil) with retries and backoff, within the Workers limit for waitUntil work.
 * Event ids make the retries idempotent at the origin.
 */
import type { EventBatch } from '../../shared/contracts/events.ts';
import { count } from './counters.ts';
import { forwardEvents, type OriginClient } from './origin.ts';

const RETRY_DELAYS_MS = [250, 1000, 3000, 8000];

async function forwardWithRetries(client: OriginClient, batch: EventBatch): Promise<boolean> {
  for (const delay of RETRY_DELAYS_MS) {
    if (await forwardEvents(client, batch, 5000)) return true;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const ok = await forwardEvents(client, batch, 5000);
  if (!ok) console.error(JSON.stringify({ event: 'events-dropped-after-retries', count: batch.events.length, ids: batch.events.map((e) => e.eventId) }));
  return ok;
}

export async function acceptEvents(client: OriginClient, batch: EventBatch, budgetMs: number, waitUntil: (p: Promise<unknown>) => void): Promise<'stored' | 'queued'> {
  const first = forwardEvents(client, batch, budgetMs);
  if (await first) {
    count('events.forwarded');
    return 'stored';
  }
  count('events.retrying');
  waitUntil(forwardWithRetries(client, batch).then((ok) => count(ok ? 'events.forwarded-late' : 'events.dropped')));
  return 'queued';
}
