/**
 * Acknowledged means durable, at the edge (issue 12 item 5), in real workerd with its local Queues:
 *   - a transient failure (503) is retried after the origin's Retry-After, not sooner;
 *   - a permanent refusal (4xx) goes to the dead-letter queue with the origin's answer, without holding back
 *     the good batches it was merged with; an operator lists it, reads it, replays it once the cause is fixed,
 *     or discards it — behind ADMIN_API_KEY;
 *   - if the queue refuses a batch the beacon gets 503 + Retry-After, never a 202 (the handler run in Node with
 *     a queue that fails: the failing dependency).
 *   - a userId on an event reaches the origin only when a valid user token for it came with the beacon (body
 *     `userToken` or X-User-Token, from an allowed page); otherwise the event is kept as a session event.
 * The stand-in origin plays the failing dependency; test/resilience/edge-events-outage.test.ts uses the real one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../shared/contracts/events.ts';
import { acceptBeacon } from '../../edge/src/events.ts';
import { tempDir } from '../nightly/helpers.ts';
import { buildEdge, startEdge, userToken, type RunningEdge } from './support.ts';

const ADMIN_KEY = 'admin-key-for-tests-0123456789abcdefgh';
/** Per event id: when each delivery attempt reached the origin. */
const attempts = new Map<string, number[]>();
const stored = new Set<string>();
/** Per event id: the event as the origin received it (user ids included or not). */
const received = new Map<string, Record<string, unknown>>();
/** Every body the origin received, as text (a user token must never be in one). */
const bodies: string[] = [];
const plan = { unavailableFor: new Map<string, number>(), retryAfter: '3', refuse: (_: EventBatch) => false as boolean };
let standIn: Server;
let edge: RunningEdge;

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

beforeAll(async () => {
  buildEdge();
  standIn = createServer(async (req, res) => {
    const text = await body(req);
    bodies.push(text);
    const batch = JSON.parse(text) as EventBatch;
    for (const e of batch.events) received.set(e.eventId, e);
    for (const e of batch.events) attempts.set(e.eventId, [...(attempts.get(e.eventId) ?? []), Date.now()]);
    const down = batch.events.some((e) => (plan.unavailableFor.get(e.eventId) ?? 0) > (attempts.get(e.eventId)?.length ?? 0) - 1);
    if (down) {
      res.writeHead(503, { 'retry-after': plan.retryAfter, 'content-type': 'application/json' }).end('{"error":"event store unavailable"}');
      return;
    }
    if (plan.refuse(batch)) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown item ids', reasons: ['itemId: unknown item bad-1'] }));
      return;
    }
    for (const e of batch.events) stored.add(e.eventId);
    // As the real origin answers an edge whose ORIGIN_API_KEY it does not accept: user ids stored as session events.
    const anonymised = batch.events.filter((e) => e.eventId.startsWith('wrong-key-')).length;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: batch.events.length, duplicates: 0, ...(anonymised > 0 ? { anonymised } : {}) }));
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  const { port } = standIn.address() as AddressInfo;
  edge = await startEdge(await tempDir('event-queue-kv'), { ORIGIN_URL: `http://127.0.0.1:${port}`, ADMIN_API_KEY: ADMIN_KEY });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await new Promise((resolve) => standIn?.close(resolve));
});

const event = (eventId: string, itemId = 'i1') => ({ eventId, type: 'view', itemId, sessionId: 's1', ts: Date.now() });
const post = (events: unknown[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events, ...extra }), headers });
const admin = (path: string, init: RequestInit = {}, key = ADMIN_KEY) => fetch(`${edge.url}/v1/admin${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('edge event queue in workerd', () => {
  it("retries a batch the origin could not store after the origin's Retry-After", async () => {
    plan.unavailableFor.set('e-retry', 2); // the origin answers 503 twice, then stores it
    plan.retryAfter = '3';
    expect((await post([event('e-retry')])).status).toBe(202);
    await until(() => stored.has('e-retry'));
    const times = attempts.get('e-retry') ?? [];
    expect(times).toHaveLength(3);
    for (let k = 1; k < times.length; k++) expect((times[k] ?? 0) - (times[k - 1] ?? 0)).toBeGreaterThanOrEqual(2_900);
  }, 30_000);

  it('dead-letters a permanently refused batch (kept with the reason), delivers the good batch merged with it, and replays it on request', async () => {
    plan.refuse = (batch) => batch.events.some((e) => e.itemId.startsWith('bad'));
    // Two beacons within the consumer's batch window: merged into one origin post, which the origin refuses.
    const [good, bad] = await Promise.all([post([event('e-good')]), post([event('e-bad', 'bad-1')])]);
    expect([good.status, bad.status]).toEqual([202, 202]);
    await until(() => stored.has('e-good'));
    let listed: { items: { id: string; metadata: { status: number; cause: string; events: number } }[] } = { items: [] };
    await until(async () => {
      listed = (await (await admin('/dead-letters')).json()) as typeof listed;
      return listed.items.length === 1;
    });
    expect(stored.has('e-bad')).toBe(false);
    // Merged post refused, then each batch alone: the good one was stored on its second delivery.
    expect(attempts.get('e-good')).toHaveLength(2);
    expect(attempts.get('e-bad')).toHaveLength(2);
    const [letter] = listed.items;
    expect(letter?.metadata).toMatchObject({ status: 400, cause: 'refused', events: 1 });
    const record = (await (await admin(`/dead-letters/${letter?.id}`)).json()) as { reason: string; body: EventBatch };
    expect(record.reason).toContain('unknown item');
    expect(record.body.events.map((e) => e.eventId)).toEqual(['e-bad']);

    // The operator fixes the cause (here: the origin now knows the item), then replays.
    plan.refuse = () => false;
    const replay = await admin(`/dead-letters/${letter?.id}/replay`, { method: 'POST' });
    expect(await replay.json()).toMatchObject({ replayed: true, events: 1 });
    await until(() => stored.has('e-bad'));
    expect(((await (await admin('/dead-letters')).json()) as typeof listed).items).toEqual([]);
    expect((await admin(`/dead-letters/${letter?.id}/replay`, { method: 'POST' })).status).toBe(404);
  }, 60_000);

  it('keeps the operator routes behind ADMIN_API_KEY', async () => {
    expect((await fetch(`${edge.url}/v1/admin/dead-letters`)).status).toBe(401);
    expect((await admin('/dead-letters', {}, 'wrong-key-wrong-key-wrong-key-wrong')).status).toBe(403);
    expect((await admin('/dead-letters/../../x', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('POST /v1/events when the queue refuses the batch', () => {
  it('answers 503 with Retry-After and a reason, never 202', async () => {
    const failing = { sendBatch: () => Promise.reject(new Error('queue unavailable')) };
    const anyone = async () => ({ ok: true as const });
    const answer = await acceptBeacon(JSON.stringify({ events: [event('e-503')] }), failing, anyone);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect((answer.body as { reasons: string[] }).reasons[0]).toContain('retry');
    // The same batch is acknowledged once the queue takes it.
    const sent: unknown[] = [];
    const working = { sendBatch: async (messages: Iterable<{ body: unknown }>) => void sent.push(...[...messages].map((m) => m.body)) };
    expect((await acceptBeacon(JSON.stringify({ events: [event('e-503')] }), working, anyone)).status).toBe(202);
    expect(sent).toEqual([{ events: [expect.objectContaining({ eventId: 'e-503' })] }]);
  });
});

describe('user ids on events need proof (a forged beacon cannot write into another user\'s history)', () => {
  const of = (eventId: string, userId: string) => ({ ...event(eventId), userId });
  const userOf = (eventId: string) => received.get(eventId)?.userId;

  it('keeps a userId only with a valid user token for it (body field or header); else stores the event as a session event', async () => {
    const noToken = await post([of('id-none', 'u5')]);
    expect(noToken.status).toBe(202);
    expect(await noToken.json()).toMatchObject({ accepted: 1, anonymised: 1, degraded: ['user-token-missing'] });
    const otherUsers = await post([of('id-other', 'u5')], { userToken: await userToken('u6') });
    expect(await otherUsers.json()).toMatchObject({ anonymised: 1, degraded: ['user-token-invalid'] });
    const expired = await post([of('id-expired', 'u5')], { userToken: await userToken('u5', -60) });
    expect(await expired.json()).toMatchObject({ anonymised: 1, degraded: ['user-token-expired'] });
    const forged = await post([of('id-forged', 'u5')], { userToken: await userToken('u5', 600, 'not-the-shared-secret-0123456789abcdef') });
    expect(await forged.json()).toMatchObject({ anonymised: 1, degraded: ['user-token-invalid'] });
    const inBody = await post([of('id-body', 'u5'), of('id-mixed', 'u7')], { userToken: await userToken('u5') });
    expect(await inBody.json()).toMatchObject({ accepted: 2, anonymised: 1, degraded: ['user-token-invalid'] });
    const inHeader = await post([of('id-header', 'u5')], {}, { 'x-user-token': await userToken('u5') });
    expect(await inHeader.json()).toMatchObject({ anonymised: 0, degraded: [] });
    // A valid token from a page whose origin is not allowed (a leaked token) proves nothing either.
    const elsewhere = await post([of('id-elsewhere', 'u5')], { userToken: await userToken('u5') }, { origin: 'https://evil.example' });
    expect(await elsewhere.json()).toMatchObject({ anonymised: 1, degraded: ['origin-not-allowed'] });

    // Browsers send Origin on same-origin POSTs too: the edge's own origin counts as same-origin.
    const sameOrigin = await post([of('id-same', 'u5')], { userToken: await userToken('u5') }, { origin: new URL(edge.url).origin });
    expect(await sameOrigin.json()).toMatchObject({ anonymised: 0, degraded: [] });

    const ids = ['id-none', 'id-other', 'id-expired', 'id-forged', 'id-body', 'id-mixed', 'id-header', 'id-elsewhere', 'id-same'];
    await until(() => ids.every((id) => received.has(id)));
    expect(Object.fromEntries(ids.map((id) => [id, userOf(id) ?? null]))).toEqual({
      'id-none': null, 'id-other': null, 'id-expired': null, 'id-forged': null, 'id-body': 'u5', 'id-mixed': null, 'id-header': 'u5', 'id-elsewhere': null, 'id-same': 'u5',
    });
    // Nothing lost: the anonymised events keep their session; the token itself never leaves the edge.
    for (const id of ids) expect(received.get(id)).toMatchObject({ eventId: id, sessionId: 's1', itemId: 'i1' });
    expect(bodies.join('\n')).not.toMatch(/userToken|v1\.\d+\./);
  }, 30_000);

  it('refuses event timestamps before 2000 or more than a day ahead, with a reason', async () => {
    for (const [ts, reason] of [[1_700_000_000, /before 2000-01-01/], [Date.now() + 3 * 86_400_000, /more than 24 hours in the future/]] as const) {
      const response = await post([{ ...event(`e-ts-${ts}`), ts }]);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { reasons: string[] }).reasons.join(' ')).toMatch(reason);
    }
  });

  it('counts and logs user ids the origin did not accept (a missing or wrong ORIGIN_API_KEY)', async () => {
    expect((await post([of('wrong-key-1', 'u5')], { userToken: await userToken('u5') })).status).toBe(202);
    await until(() => stored.has('wrong-key-1'));
    await until(async () => {
      const stats = (await (await fetch(`${edge.url}/v1/stats`)).json()) as { counters: Record<string, number> };
      return (stats.counters['events.origin-anonymised'] ?? 0) >= 1;
    });
    expect(edge.log()).toContain('events-user-ids-not-accepted-by-origin');
  }, 30_000);

  it('answers the preflight for the X-User-Token header', async () => {
    const preflight = await fetch(`${edge.url}/v1/events`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-user-token' } });
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-user-token');
  });
});
