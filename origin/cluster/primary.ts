/**
 * The primary process of `ORIGIN_WORKERS=auto|N` (node:cluster): forks one worker per core (or N), all serving the
 * one port (the primary accepts connections and hands them out round-robin). It serves no requests itself:
 *   - the first worker starts alone (database migrations and the catalogue seeding happen once), then the rest;
 *   - a worker that dies is replaced (unless the primary is stopping or the worker exited cleanly);
 *   - GET /metrics in any worker asks the primary, which collects every worker's registry with prom-client's
 *     AggregatorRegistry (counters and histograms summed; see docs/origin-api.md) and hands the text back;
 *   - SIGINT/SIGTERM stop the workers (each closes its server and its connections) and then the primary.
 * Models hot-reload in each worker (each polls current.json); rate limits live in Redis, shared by all. One worker
 * is the leader (env ORIGIN_CLUSTER_LEADER=1; its replacement inherits the role): it alone runs deployment-wide
 * timers (the canary rule), so a canary is never judged twice at once.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';
import { METRICS_REPLY, METRICS_REQUEST, type MetricsReply } from './messages.ts';

/** ORIGIN_WORKERS → a process count: auto = the cores this process may use. */
export function workerCount(setting: string): number {
  return setting === 'auto' ? availableParallelism() : Number(setting);
}

type Log = (line: Record<string, unknown>) => void;

export const LEADER_ENV = 'ORIGIN_CLUSTER_LEADER';

export async function runPrimary(workers: number, log: Log): Promise<void> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const leaders = new Set<number>();
  const fork = (leader: boolean): Worker => {
    const worker = cluster.fork(leader ? { [LEADER_ENV]: '1' } : {});
    if (leader) leaders.add(worker.id);
    return worker;
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isRequest(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_REPLY, id: message.id, text } satisfies MetricsReply),
      (error: unknown) => worker.send({ type: METRICS_REPLY, id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies MetricsReply),
    );
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping || code === 0) return; // 0: the worker was stopped on purpose (a signal to the whole group)
    const leader = leaders.delete(worker.id);
    log({ component: 'cluster', level: 'warn', workerExited: worker.id, code, signal, replacing: true, leader });
    fork(leader);
  });

  const listening = (worker: Worker): Promise<void> => new Promise((resolve, reject) => {
    worker.once('listening', () => resolve());
    worker.once('exit', (code) => reject(new Error(`worker ${worker.id} exited with ${code} before listening`)));
  });
  await listening(fork(true));
  await Promise.all(Array.from({ length: workers - 1 }, () => listening(fork(false))));
  log({ component: 'cluster', workers, pid: process.pid });

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log({ component: 'cluster', stopping: signal });
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    let left = alive.length;
    if (left === 0) process.exit(0);
    for (const worker of alive) {
      worker.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      worker.process.kill('SIGTERM');
    }
    setTimeout(() => process.exit(0), 8000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function isRequest(message: unknown): message is { type: typeof METRICS_REQUEST; id: number } {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === METRICS_REQUEST && typeof (message as { id?: unknown }).id === 'number';
}
