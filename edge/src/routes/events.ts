/**
 * POST /v1/events (and its preflight): the HTTP side of events.ts — beacons are queued, then 202. A userId
 * on an event is proven as for personal reads (identity.ts: a valid user token, from an allowed page).
 */
import type { Hono } from 'hono';
import { configFrom, type Env } from '../env.ts';
import { acceptBeacon, MAX_EVENT_BODY_BYTES } from '../events.ts';
import { identifyVisitor } from '../identity.ts';

export function registerEvents(app: Hono<{ Bindings: Env }>): void {
  app.options('/v1/events', (c) => c.body(null, 204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, x-user-token', 'access-control-max-age': '7200' }));
  app.post('/v1/events', async (c) => {
    if (Number(c.req.header('content-length') ?? 0) > MAX_EVENT_BODY_BYTES) {
      return c.json({ error: 'payload_too_large', reasons: [`body over ${MAX_EVENT_BODY_BYTES} bytes`] }, 413, { 'access-control-allow-origin': '*' });
    }
    const config = configFrom(c.env);
    // Browsers send Origin on every POST, same-origin ones too: the edge's own origin (the demo page, a route
    // on the shop's domain) is a same-origin page, which identity.ts treats as a request without Origin.
    const sent = c.req.header('origin');
    const origin = sent === new URL(c.req.url).origin ? undefined : sent;
    const answer = await acceptBeacon(await c.req.text(), c.env.EVENTS, async (user, token) => {
      const visitor = await identifyVisitor({ user, token, origin }, config, Date.now());
      return visitor.kind === 'user' ? { ok: true } : { ok: false, degraded: visitor.because ?? 'user-token-missing' };
    }, c.req.header('x-user-token'));
    return c.json(answer.body, answer.status, answer.headers);
  });
}
