/**
 * Origin process entry: `node origin/server.ts` (npm run origin). Reads env (origin/config.ts), builds the
 * service, listens, and shuts down cleanly on SIGINT/SIGTERM. Logs are JSON lines on stderr.
 * ORIGIN_WORKERS=auto|N: this process becomes the cluster's primary (origin/cluster/primary.ts) and forks N
 * workers that run this same file and share the port.
 */
import cluster from 'node:cluster';
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { LEADER_ENV, runPrimary, workerCount } from './cluster/primary.ts';

const log = (line: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}), ...line })}\n`);
};

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const workers = workerCount(config.ORIGIN_WORKERS);
if (workers > 1 && cluster.isPrimary) {
  await runPrimary(workers, log);
} else {
  const { buildOriginService } = await import('./wiring.ts'); // not in the primary: it serves nothing
  const service = await buildOriginService(config, log, cluster.isWorker ? { worker: cluster.worker?.id ?? 0, leader: process.env[LEADER_ENV] === '1' } : undefined);
  const server = serve({ fetch: service.app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    log({ component: 'server', listening: `http://${info.address}:${info.port}`, database: service.database.kind, featureStore: config.REDIS_URL ? 'redis' : 'memory' });
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log({ component: 'server', stopping: signal });
    server.close(() => {
      void service.close().finally(() => process.exit(0));
    });
    // Keep-alive connections would hold server.close() open until they idle out.
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
