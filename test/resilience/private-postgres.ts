/**
 * A private PostgreSQL cluster (initdb in a temp dir, random port) that a test may stop and start — never the
 * shared server on 5432. Postgres refuses to run as root, so as root the binaries run as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** PG_BIN, else the newest Debian server install (/usr/lib/postgresql/<major>/bin) that has initdb. */
function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL server binaries (initdb) under ${root}: install postgresql or set PG_BIN`);
  return join(root, majors[0]!, 'bin');
}
const BIN = postgresBin();

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
