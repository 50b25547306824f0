/**
 * Dead letters: event batches the edge acknowledged but could not deliver — refused permanently by the origin
 * (4xx other than 408/429), or still undelivered after every retry. The dead-letter queue's consumer keeps
 * each one in the DEAD_LETTERS KV namespace with why it failed; an operator lists, reads, replays (re-enqueues
 * onto EVENTS: event ids make a replay idempotent) or discards them through /v1/admin/dead-letters
 * (routes/admin.ts). Nothing is dropped silently: a record only disappears by an operator's replay or discard.
 */
import { z } from 'zod';
import { EventBatchSchema, type EventBatch } from '../../shared/contracts/events.ts';
import { count } from './counters.ts';
import { enqueueEvents } from './events.ts';

const PREFIX = 'dlq:';

export const DeadLetterRecordSchema = z.object({
  id: z.string(),
  /** 'refused': the origin answered a permanent error; 'retries-exhausted': it never took it in time. */
  cause: z.enum(['refused', 'retries-exhausted']),
  status: z.number().int(),
  reason: z.string(),
  attempts: z.number().int(),
  failedAt: z.number(),
  body: z.unknown(),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecordSchema>;

const ExplicitSchema = z.object({ kind: z.literal('dead-letter'), body: z.unknown(), status: z.number().int(), reason: z.string(), attempts: z.number().int(), failedAt: z.number() });

/** The record for one message of the dead-letter queue. */
export function recordOf(message: { id: string; body: unknown; attempts: number; timestamp: Date }, now: number): DeadLetterRecord {
  const explicit = ExplicitSchema.safeParse(message.body);
  const failedAt = explicit.success ? explicit.data.failedAt : now;
  const id = `${new Date(failedAt).toISOString().replace(/[-:.]/g, '')}-${message.id}`.slice(0, 200);
  if (explicit.success) return { id, cause: 'refused', status: explicit.data.status, reason: explicit.data.reason, attempts: explicit.data.attempts, failedAt, body: explicit.data.body };
  return { id, cause: 'retries-exhausted', status: 0, reason: 'not delivered within the queue retries (origin unavailable)', attempts: message.attempts, failedAt, body: message.body };
}

const eventsIn = (body: unknown): number => {
  const parsed = EventBatchSchema.safeParse(body);
  return parsed.success ? parsed.data.events.length : 0;
};

/** DLQ consumer: stores every message, acks it only once stored. */
export async function storeDeadLetters(messages: readonly Message<unknown>[], store: KVNamespace, now: () => number): Promise<void> {
  for (const message of messages) {
    const record = recordOf(message, now());
    try {
      await store.put(PREFIX + record.id, JSON.stringify(record), {
        metadata: { cause: record.cause, status: record.status, reason: record.reason.slice(0, 200), events: eventsIn(record.body), failedAt: record.failedAt },
      });
      count('dead-letters.stored');
      console.error(JSON.stringify({ event: 'dead-letter-stored', id: record.id, cause: record.cause, status: record.status }));
      message.ack();
    } catch (error) {
      console.error(JSON.stringify({ event: 'dead-letter-store-failed', error: String(error) }));
      message.retry({ delaySeconds: 30 });
    }
  }
}

export interface DeadLetterSummary {
  id: string;
  metadata: unknown;
}

export async function listDeadLetters(store: KVNamespace, limit: number, cursor: string | undefined): Promise<{ items: DeadLetterSummary[]; cursor: string | null }> {
  const page = await store.list({ prefix: PREFIX, limit, ...(cursor ? { cursor } : {}) });
  return { items: page.keys.map((k) => ({ id: k.name.slice(PREFIX.length), metadata: k.metadata ?? null })), cursor: page.list_complete ? null : page.cursor };
}

export async function readDeadLetter(store: KVNamespace, id: string): Promise<DeadLetterRecord | null> {
  const raw = await store.get(PREFIX + id, { type: 'json' });
  const parsed = DeadLetterRecordSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export type ReplayResult = { id: string; replayed: true; events: number } | { id: string; replayed: false; reason: string };

/** Re-enqueues a dead letter onto EVENTS, then deletes it (a crash in between replays it twice: harmless). */
export async function replayDeadLetter(store: KVNamespace, queue: Queue<EventBatch>, id: string): Promise<ReplayResult> {
  const record = await readDeadLetter(store, id);
  if (!record) return { id, replayed: false, reason: 'no such dead letter' };
  const batch = EventBatchSchema.safeParse(record.body);
  if (!batch.success) return { id, replayed: false, reason: 'its body is not a valid event batch; inspect and discard it' };
  await enqueueEvents(queue, batch.data);
  await store.delete(PREFIX + id);
  count('dead-letters.replayed');
  return { id, replayed: true, events: batch.data.events.length };
}

export async function discardDeadLetter(store: KVNamespace, id: string): Promise<boolean> {
  if (!(await readDeadLetter(store, id))) return false;
  await store.delete(PREFIX + id);
  count('dead-letters.discarded');
  return true;
}
