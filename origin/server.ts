/**
 * Origin process entry: `node origin/server.ts` (npm run origin). Reads env (origin/config.ts), builds the
 * service, listens, and shuts down cleanly on SIGINT/SIGTERM. Logs are JSON lines on stderr.
 */
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { buildOriginService } from './wiring.ts';

const log = (line: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
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

const service = await buildOriginService(config, log);
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
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
