/**
 * A private PostgreSQL cluster (initdb in a temp dir, random port) that a test may stop and start — never the
 * shared server on 5432. Postgres refuses to run as root, so as root the binaries run as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  url: string;
  start(): Promise<void>;
  /** Immediate shutdown: connections drop the way they do when the host dies. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

async function asOwner(command: string, args: string[]): Promise<void> {
  if (userInfo().uid === 0) await run('runuser', ['-u', 'postgres', '--', join(BIN, command), ...args], { timeout: 60_000 });
  else await run(join(BIN, command), args, { timeout: 60_000 });
}

export async function createPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-resilience-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => asOwner('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']),
    stop: () => asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    destroy: async () => {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pg;
}
