/**
 * Acknowledged means durable, at the edge (issue 12 item 5), in real workerd with its local Queues:
 *   - a transient failure (503) is retried after the origin's Retry-After, not sooner;
 *   - a permanent refusal (4xx) goes to the dead-letter queue with the origin's answer, without holding back
 *     the good batches it was merged with; an operator lists it, reads it, replays it once the cause is fixed,
 *     or discards it — behind ADMIN_API_KEY;
 *   - if the queue refuses a batch the beacon gets 503 + Retry-After, never a 202 (the handler run in Node with
 *     a queue that fails: the failing dependency).
 * The stand-in origin plays the failing dependency; test/resilience/edge-events-outage.test.ts uses the real one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../shared/contracts/events.ts';
import { acceptBeacon } from '../../edge/src/events.ts';
import { tempDir } from '../nightly/helpers.ts';
import { buildEdge, startEdge, type RunningEdge } from './support.ts';

const ADMIN_KEY = 'admin-key-for-tests-0123456789abcdefgh';
/** Per event id: when each delivery attempt reached the origin. */
const attempts = new Map<string, number[]>();
const stored = new Set<string>();
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
    const batch = JSON.parse(await body(req)) as EventBatch;
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
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: batch.events.length, duplicates: 0 }));
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
const post = (events: unknown[]) => fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events }) });
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
    const answer = await acceptBeacon(JSON.stringify({ events: [event('e-503')] }), failing);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect((answer.body as { reasons: string[] }).reasons[0]).toContain('retry');
    // The same batch is acknowledged once the queue takes it.
    const sent: unknown[] = [];
    const working = { sendBatch: async (messages: Iterable<{ body: unknown }>) => void sent.push(...[...messages].map((m) => m.body)) };
    expect((await acceptBeacon(JSON.stringify({ events: [event('e-503')] }), working)).status).toBe(202);
    expect(sent).toEqual([{ events: [expect.objectContaining({ eventId: 'e-503' })] }]);
  });
});
