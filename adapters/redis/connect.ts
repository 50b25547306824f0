/**
 * One way to open a Redis connection for serving: a single node (`redis://…`, the default) or a Redis Cluster
 * (`redis+cluster://host:port,host:port,…`: any reachable nodes, the rest is discovered). Both fail fast (no
 * offline queue, one retry, a short command timeout) and reconnect in the background, so callers degrade instead
 * of hanging while Redis is down. Multi-key work goes through adapters/redis/batch.ts, which keeps each pipeline
 * inside one cluster slot.
 */
import { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  commandTimeoutMs?: number;
  /** ioredis key prefix (prepended to every key); the rate limiter adds its own inside the library instead. */
  keyPrefix?: string;
}

const CLUSTER_SCHEME = 'redis+cluster://';

/** The seed nodes of a `redis+cluster://h1:p1,h2:p2` URL; undefined for a single-node URL. */
export function clusterNodes(url: string): { host: string; port: number }[] | undefined {
  if (!url.startsWith(CLUSTER_SCHEME)) return undefined;
  const nodes = url.slice(CLUSTER_SCHEME.length).replace(/\/.*$/, '').split(',').filter(Boolean).map((node) => {
    const match = /^(.+):(\d+)$/.exec(node);
    if (!match) throw new Error(`redis+cluster URL: "${node}" is not host:port`);
    return { host: match[1]!, port: Number(match[2]) };
  });
  if (nodes.length === 0) throw new Error('redis+cluster URL names no node');
  return nodes;
}

export function connectRedis(url: string, options: RedisConnectOptions = {}): RedisClient {
  const commandTimeout = options.commandTimeoutMs ?? 200;
  const nodes = clusterNodes(url);
  const client: RedisClient = nodes
    ? new Cluster(nodes, {
        keyPrefix: options.keyPrefix ?? '',
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: (attempt) => Math.min(1000, 50 * attempt),
        slotsRefreshTimeout: 1000,
        redisOptions: { maxRetriesPerRequest: 1, commandTimeout, connectTimeout: 1000 },
      })
    : new Redis(url, {
        keyPrefix: options.keyPrefix ?? '',
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        maxRetriesPerRequest: 1,
        commandTimeout,
        connectTimeout: 1000,
        retryStrategy: (attempt) => Math.min(1000, 50 * attempt),
      });
  client.on('error', () => undefined); // surfaced per command; reconnects in the background
  return client;
}

/** Settles once the first connection attempt is over (ready, or given up after 1.5 s). */
export function firstConnect(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1500);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
