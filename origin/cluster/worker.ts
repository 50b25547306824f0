/**
 * The worker side of `ORIGIN_WORKERS`: answers the primary's collection requests with this process's metrics
 * registry (prom-client's AggregatorRegistry listener), and gives GET /metrics the aggregated text of all
 * workers by asking the primary over the IPC channel (timeout → an error, which the route turns into a 503).
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import { METRICS_REPLY, METRICS_REQUEST, type MetricsReply, type MetricsRequest } from './messages.ts';

export function clusterMetrics(registry: Registry, timeoutMs = 6000): () => Promise<string> {
  // Constructing an AggregatorRegistry in a worker installs prom-client's answer to the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    const reply = message as Partial<MetricsReply> | null;
    if (reply?.type !== METRICS_REPLY || typeof reply.id !== 'number') return;
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    clearTimeout(waiting.timer);
    if (typeof reply.text === 'string') waiting.resolve(reply.text);
    else waiting.reject(new Error(`metrics aggregation failed: ${reply.error ?? 'no answer'}`));
  });
  return () => new Promise<string>((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('metrics aggregation timed out'));
    }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
  });
}
