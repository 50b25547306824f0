/**
 * Queue consumer of EVENTS: forwards queued beacon batches to the origin's POST /v1/events.
 *   - stored (2xx) → ack;
 *   - transient (no answer, 5xx, 408, 429) → retry the message later: after the origin's Retry-After when it
 *     sent one, else exponential backoff; Queues moves it to the dead-letter queue after max_retries;
 *   - permanent (any other 4xx: the origin will never take it) → sent to the dead-letter queue at once, with
 *     the origin's status and reason, then acked.
 * Messages are merged into origin posts within the origin's batch limits; when a merged post is refused
 * permanently, its messages are retried one by one so one bad batch cannot take good ones with it.
 */
import { EventBatchSchema, MAX_EVENTS_PER_BATCH, type EventBatch } from '../../shared/contracts/events.ts';
import { count } from './counters.ts';
import type { DeadLetterMessage } from './env.ts';
import { forwardEvents, type ForwardResult, type OriginClient } from './origin.ts';

/** Longest delay Queues accepts for a retry (12 hours); longer Retry-After values are capped to it. */
const MAX_DELAY_SECONDS = 43_200;
const MAX_POST_BYTES = 200_000;
const FORWARD_TIMEOUT_MS = 10_000;

export interface ForwarderDeps {
  origin: OriginClient;
  deadLetter: (message: DeadLetterMessage) => Promise<void>;
  now: () => number;
}

/**
 * Delay before the next attempt: the origin's Retry-After if given, else 2, 4, 8 … seconds up to 1 minute.
 * The cap is short on purpose: `attempts` also counts the retries the origin timed with Retry-After, so after a
 * long outage one unanswered attempt would otherwise park a batch for minutes after the origin is back.
 */
export function retryDelaySeconds(attempts: number, retryAfter: number | null): number {
  if (retryAfter !== null) return Math.min(MAX_DELAY_SECONDS, Math.max(1, retryAfter));
  return Math.min(60, 2 ** Math.min(Math.max(attempts, 1), 6));
}

export function isTransient(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

interface Pending {
  message: Message<unknown>;
  batch: EventBatch;
}

type Failure = Extract<ForwardResult, { ok: false }>;

/** Groups messages into posts within the origin's limits (events per batch, body size). */
function group(pending: readonly Pending[]): Pending[][] {
  const groups: Pending[][] = [];
  let current: Pending[] = [];
  let events = 0;
  let bytes = 0;
  for (const item of pending) {
    const size = JSON.stringify(item.batch).length;
    if (current.length > 0 && (events + item.batch.events.length > MAX_EVENTS_PER_BATCH || bytes + size > MAX_POST_BYTES)) {
      groups.push(current);
      current = [];
      events = 0;
      bytes = 0;
    }
    current.push(item);
    events += item.batch.events.length;
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function giveUp(message: Message<unknown>, result: Failure, deps: ForwarderDeps): Promise<void> {
  try {
    await deps.deadLetter({ kind: 'dead-letter', body: message.body, status: result.status, reason: result.reason, attempts: message.attempts, failedAt: deps.now() });
    count('events.dead-lettered');
    console.error(JSON.stringify({ event: 'events-dead-lettered', status: result.status, message: message.id }));
    message.ack();
  } catch {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, null) });
  }
}

async function post(items: Pending[], deps: ForwarderDeps): Promise<void> {
  const batch: EventBatch = { events: items.flatMap((item) => item.batch.events) };
  const result = await forwardEvents(deps.origin, batch, FORWARD_TIMEOUT_MS);
  if (result.ok) {
    for (const item of items) item.message.ack();
    count('events.forwarded', items.length);
    if (result.anonymised > 0) {
      // The edge proved these user ids; the origin did not take its word: ORIGIN_API_KEY is missing or wrong.
      count('events.origin-anonymised', result.anonymised);
      console.error(JSON.stringify({ event: 'events-user-ids-not-accepted-by-origin', anonymised: result.anonymised, hint: 'set ORIGIN_API_KEY to one of the origin API_KEYS' }));
    }
    return;
  }
  if (isTransient(result.status)) {
    count('events.retried', items.length);
    for (const item of items) item.message.retry({ delaySeconds: retryDelaySeconds(item.message.attempts, result.retryAfterSeconds) });
    return;
  }
  if (items.length > 1) {
    for (const item of items) await post([item], deps);
    return;
  }
  const [only] = items;
  if (only) await giveUp(only.message, result, deps);
}

export async function forwardQueuedEvents(messages: readonly Message<unknown>[], deps: ForwarderDeps): Promise<void> {
  const pending: Pending[] = [];
  for (const message of messages) {
    const parsed = EventBatchSchema.safeParse(message.body);
    if (parsed.success) pending.push({ message, batch: parsed.data });
    else {
      // Only the edge enqueues here, after validation: a malformed body is kept for inspection, never retried.
      await giveUp(message, { ok: false, status: 0, retryAfterSeconds: null, reason: 'malformed queue message' }, deps);
    }
  }
  for (const items of group(pending)) await post(items, deps);
}
