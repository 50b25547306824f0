/**
 * POST /v1/events: a beacon batch is validated (400/413 with reasons), its user ids kept only where a valid
 * user token proves them (shared/auth/event-users.ts: others become anonymous session events), and
 * acknowledged only once it is
 * durable — enqueued on the EVENTS queue (Cloudflare Queues). If the enqueue fails the answer is 503 +
 * Retry-After and the widget keeps the batch for a later try (event ids make every retry idempotent at the
 * origin). Queue messages are at most 128 KB, so a large batch is split into several messages.
 */
import { attributeEvents, type UserCheck } from '../../shared/auth/event-users.ts';
import { EventBeaconSchema, type EventBatch } from '../../shared/contracts/events.ts';
import { count } from './counters.ts';
import { reasonsOf } from './http.ts';

/** Cloudflare Queues: 128 KB per message, 100 messages and 256 KB per sendBatch call. Kept under with margin. */
const MAX_MESSAGE_BYTES = 100_000;
const MAX_SEND_BYTES = 200_000;
const MAX_SEND_MESSAGES = 100;
export const MAX_EVENT_BODY_BYTES = 256 * 1024;
const RETRY_AFTER_SECONDS = 5;

/** The part of a Queue binding the producer uses (Queue<EventBatch> satisfies it). */
export interface EventQueue {
  sendBatch(messages: Iterable<{ body: EventBatch; contentType: 'json' }>): Promise<unknown>;
}

const bytesOf = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).length;

/** Splits a batch into queue-sized batches (each event stays whole; order is kept). */
export function splitForQueue(batch: EventBatch): EventBatch[] {
  const out: EventBatch[] = [];
  let current: EventBatch['events'] = [];
  let size = 20;
  for (const event of batch.events) {
    const bytes = bytesOf(event) + 1;
    if (current.length > 0 && size + bytes > MAX_MESSAGE_BYTES) {
      out.push({ events: current });
      current = [];
      size = 20;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) out.push({ events: current });
  return out;
}

/** Enqueues the batch (as one or more messages). Throws when the queue refused it. */
export async function enqueueEvents(queue: EventQueue, batch: EventBatch): Promise<number> {
  const parts = splitForQueue(batch);
  let call: { body: EventBatch; contentType: 'json' }[] = [];
  let callBytes = 0;
  const flush = async (): Promise<void> => {
    if (call.length > 0) await queue.sendBatch(call);
    call = [];
    callBytes = 0;
  };
  for (const part of parts) {
    const bytes = bytesOf(part);
    if (call.length >= MAX_SEND_MESSAGES || callBytes + bytes > MAX_SEND_BYTES) await flush();
    call.push({ body: part, contentType: 'json' });
    callBytes += bytes;
  }
  await flush();
  return parts.length;
}

export interface BeaconAnswer {
  status: 202 | 400 | 413 | 503;
  body: unknown;
  headers: Record<string, string>;
}

/** Proves a user id with the beacon's token (body `userToken`, else the X-User-Token header). */
export type UserProver = (userId: string, token: string | undefined) => Promise<UserCheck>;

/**
 * Validates a beacon body and enqueues it: the whole of POST /v1/events but the HTTP plumbing. Only proven
 * user ids reach the queue (the origin trusts the edge's API key), and the token itself is never queued.
 */
export async function acceptBeacon(text: string, queue: EventQueue, prove: UserProver, headerToken?: string): Promise<BeaconAnswer> {
  const cors = { 'access-control-allow-origin': '*' };
  if (text.length > MAX_EVENT_BODY_BYTES) return { status: 413, body: { error: 'payload_too_large', reasons: [`body over ${MAX_EVENT_BODY_BYTES} bytes`] }, headers: cors };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status: 400, body: { error: 'bad_request', reasons: ['(body): not valid JSON'] }, headers: cors };
  }
  const parsed = EventBeaconSchema.safeParse(body);
  if (!parsed.success) {
    count('events.bad-request');
    return { status: 400, body: { error: 'bad_request', reasons: reasonsOf(parsed.error) }, headers: cors };
  }
  const token = parsed.data.userToken ?? headerToken;
  const attributed = await attributeEvents({ events: parsed.data.events }, (userId) => prove(userId, token));
  if (attributed.anonymised > 0) count('events.anonymised', attributed.anonymised);
  try {
    await enqueueEvents(queue, attributed.batch);
  } catch (error) {
    count('events.enqueue-failed');
    console.error(JSON.stringify({ event: 'events-enqueue-failed', error: String(error), count: parsed.data.events.length }));
    return {
      status: 503,
      body: { error: 'unavailable', reasons: ['the event queue did not accept the batch; retry it later (event ids make retries safe)'] },
      headers: { ...cors, 'retry-after': String(RETRY_AFTER_SECONDS) },
    };
  }
  count('events.enqueued', parsed.data.events.length);
  const degraded = attributed.reason === null ? [] : [attributed.reason];
  return { status: 202, body: { accepted: parsed.data.events.length, forwarded: 'queued', anonymised: attributed.anonymised, degraded }, headers: cors };
}
