/**
 * POST /v1/events: a validated beacon batch is acknowledged only once it is durable — enqueued on the
 * EVENTS queue (Cloudflare Queues). If the enqueue fails the answer is 503 + Retry-After and the widget keeps
 * the batch for a later try (event ids make every retry idempotent at the origin). Queue messages are at most
 * 128 KB, so a large batch is split into several messages.
 */
import type { EventBatch } from '../../shared/contracts/events.ts';

/** Cloudflare Queues: 128 KB per message, 100 messages and 256 KB per sendBatch call. Kept under with margin. */
const MAX_MESSAGE_BYTES = 100_000;
const MAX_SEND_BYTES = 200_000;
const MAX_SEND_MESSAGES = 100;

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
export async function enqueueEvents(queue: Queue<EventBatch>, batch: EventBatch): Promise<number> {
  const parts = splitForQueue(batch);
  let call: MessageSendRequest<EventBatch>[] = [];
  let callBytes = 0;
  const flush = async (): Promise<void> => {
    if (call.length > 0) await queue.sendBatch(call, {});
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
