/**
 * LISTEN on Postgres through pg-listen: one dedicated connection (not from the query pool) that reconnects
 * with exponential backoff for as long as the origin runs and re-subscribes after a reconnect. Notifications
 * sent while it was disconnected are lost, so a reconnect is reported as an empty payload (the caller reloads).
 * The first connection is retried too, so an origin started while Postgres is down listens once it is back.
 */
import createPostgresSubscriber, { type Subscriber } from 'pg-listen';

const backoff = (attempt: number): number => Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));

export function listenPostgres(url: string, channel: string, onNotify: (payload: string) => void, log: (line: Record<string, unknown>) => void = () => undefined): () => Promise<void> {
  let subscriber: Subscriber | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const start = async (attempt: number): Promise<void> => {
    if (closed) return;
    // retryTimeout 0 = never give up reconnecting (pg-listen's default stops after 3 s).
    const next = createPostgresSubscriber({ connectionString: url, connectionTimeoutMillis: 2000 }, { retryTimeout: 0, retryInterval: backoff, paranoidChecking: 15_000, parse: (s) => s });
    next.notifications.on(channel, (payload: unknown) => onNotify(typeof payload === 'string' ? payload : ''));
    next.events.on('error', (error) => log({ component: 'db-listen', level: 'warn', channel, error: error.message }));
    let connected = false;
    next.events.on('connected', () => {
      if (connected) onNotify(''); // a reconnect: catch up on what was missed
      connected = true;
    });
    try {
      await next.connect();
      await next.listenTo(channel);
      if (closed) {
        await next.close().catch(() => undefined);
        return;
      }
      subscriber = next;
      if (attempt > 0) onNotify('');
    } catch (error) {
      await next.close().catch(() => undefined);
      log({ component: 'db-listen', level: 'warn', channel, attempt, error: error instanceof Error ? error.message : String(error) });
      timer = setTimeout(() => void start(attempt + 1), backoff(attempt));
      timer.unref();
    }
  };
  void start(0);
  return async () => {
    closed = true;
    if (timer) clearTimeout(timer);
    await subscriber?.close().catch(() => undefined);
  };
}
