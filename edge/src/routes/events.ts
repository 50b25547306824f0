/**
 * POST /v1/events: beacon batches from the widget. Validated here (400/413 with reasons), then enqueued
 * (events.ts); 202 only once the queue has the batch, else 503 + Retry-After so the widget retries it.
 */
import type { Hono } from 'hono';
import { EventBatchSchema } from '../../../shared/contracts/events.ts';
import { count } from '../counters.ts';
import type { Env } from '../env.ts';
import { enqueueEvents } from '../events.ts';
import { reasonsOf } from '../http.ts';

const MAX_EVENT_BODY_BYTES = 256 * 1024;
const RETRY_AFTER_SECONDS = 5;

export function registerEvents(app: Hono<{ Bindings: Env }>): void {
  app.options('/v1/events', (c) => c.body(null, 204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '7200' }));
  app.post('/v1/events', async (c) => {
    c.header('access-control-allow-origin', '*');
    const tooLarge = (): Response => c.json({ error: 'payload_too_large', reasons: [`body over ${MAX_EVENT_BODY_BYTES} bytes`] }, 413);
    if (Number(c.req.header('content-length') ?? 0) > MAX_EVENT_BODY_BYTES) return tooLarge();
    const text = await c.req.text();
    if (text.length > MAX_EVENT_BODY_BYTES) return tooLarge();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return c.json({ error: 'bad_request', reasons: ['(body): not valid JSON'] }, 400);
    }
    const parsed = EventBatchSchema.safeParse(body);
    if (!parsed.success) {
      count('events.bad-request');
      return c.json({ error: 'bad_request', reasons: reasonsOf(parsed.error) }, 400);
    }
    try {
      await enqueueEvents(c.env.EVENTS, parsed.data);
    } catch (error) {
      count('events.enqueue-failed');
      console.error(JSON.stringify({ event: 'events-enqueue-failed', error: String(error), count: parsed.data.events.length }));
      return c.json({ error: 'unavailable', reasons: ['the event queue did not accept the batch; retry it later (event ids make retries safe)'] }, 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    count('events.enqueued', parsed.data.events.length);
    return c.json({ accepted: parsed.data.events.length, forwarded: 'queued' }, 202);
  });
}
