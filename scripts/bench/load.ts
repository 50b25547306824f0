/**
 * `npm run bench:load`: concurrent HTTP load (autocannon) on 127.0.0.1 only, bounded in time.
 *   - origin POST /v1/recommend (mixed known users, anonymous sessions with recent items);
 *   - origin POST /v1/events (batches of 10 events with unique ids; non-2xx answers counted);
 *   - origin RSS before/after the event load (bounded memory).
 * The origin runs as its own process (`node origin/server.ts`) on the embedded defaults unless DATABASE_URL /
 * REDIS_URL are set. Flags: --duration S (default 10) --connections C (default 16). JSON lines.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort, waitForHttp } from './http.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' } } });
const duration = Number(values.duration);
const connections = Number(values.connections);
const command = 'npm run bench:load';
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'load', duration_s: duration, connections, command, ...line }));

function rssOf(pid: number): number {
  // /proc/<pid>/status VmRSS in kB (Linux).
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

async function main(): Promise<void> {
  const port = await freePort();
  const origin = spawn(process.execPath, [join(root, 'origin', 'server.ts')], {
    cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_RPS: '1000000', RATE_LIMIT_BURST: '1000000' },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, 120_000);
    let n = 0;
    const recommend = await autocannon({
      url, connections, duration,
      requests: [{
        method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          n++;
          const body = n % 2 === 0 ? { userId: `u${n % 5000}`, k: 10 } : { sessionId: `s${n}`, k: 10, sessionItemIds: [`i${n % 10000}`, `i${(n * 7) % 10000}`] };
          return { ...req, body: JSON.stringify(body) };
        },
      }],
    });
    emit({ target: 'origin POST /v1/recommend', rps: +recommend.requests.average.toFixed(1), p50_ms: recommend.latency.p50, p99_ms: recommend.latency.p99, non2xx: recommend.non2xx, errors: recommend.errors });

    const rssBefore = rssOf(origin.pid ?? 0);
    const runId = randomUUID().slice(0, 8);
    let sent = 0;
    const events = await autocannon({
      url, connections, duration,
      requests: [{
        method: 'POST', path: '/v1/events', headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const batch = Array.from({ length: 10 }, () => ({ eventId: `load-${runId}-${sent++}`, type: 'view', itemId: `i${sent % 10000}`, sessionId: `s${sent % 500}`, userId: `u${sent % 5000}` }));
          return { ...req, body: JSON.stringify({ events: batch }) };
        },
      }],
    });
    const rssAfter = rssOf(origin.pid ?? 0);
    const accepted = events.requests.total - events.non2xx;
    emit({ target: 'origin POST /v1/events (batches of 10)', rps: +events.requests.average.toFixed(1), events_per_s: +(events.requests.average * 10).toFixed(0), p50_ms: events.latency.p50, p99_ms: events.latency.p99, non2xx: events.non2xx, errors: events.errors, requests_ok: accepted });
    emit({ target: 'origin RSS during event load', rss_before_mb: +(rssBefore / 1048576).toFixed(1), rss_after_mb: +(rssAfter / 1048576).toFixed(1) });
  } finally {
    origin.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
