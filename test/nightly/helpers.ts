/** Shared helpers of the nightly tests: spawn the real CLI, dump a local KV, start wrangler dev (workerd). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalKv } from '../../adapters/kv/local.ts';

export const root = join(import.meta.dirname, '..', '..');
export const nodeBin = join(root, 'node_modules', '.bin', 'node');

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

export interface Spawned {
  child: ChildProcess;
  /** What it has written to stdout and stderr so far. */
  output(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * Spawns a script in its own process group, so a kill can take its workerd children with it. The suite's
 * DATABASE_URL is not passed on: a script reads a database only when the test names one (`--database-url`),
 * so no script migrates or reads the suite's admin database.
 */
export function spawnScript(script: string, args: string[], extraEnv: Record<string, string> = {}): Spawned {
  const { DATABASE_URL: _suiteDatabase, ...env } = process.env;
  const child = spawn(nodeBin, [join(root, script), ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => stdout + stderr };
}

/** kill -9 of the whole process group: the job and the workerd it started die together, like a crashed host. */
export function killGroup(spawned: Spawned): void {
  if (spawned.child.pid !== undefined) process.kill(-spawned.child.pid, 'SIGKILL');
}

/** Every key and value in a local KV namespace (small test namespaces only). */
export async function dumpLocalKv(persistTo: string, namespaceId: string): Promise<Map<string, string>> {
  const kv = await openLocalKv({ persistTo, namespaceId });
  try {
    const out = new Map<string, string>();
    const keys: string[] = [];
    for await (const key of kv.list('')) keys.push(key);
    const values = await kv.getMany(keys);
    keys.forEach((key, k) => out.set(key, values[k] ?? ''));
    return out;
  } finally {
    await kv.close();
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `wrangler dev` (local workerd) for the worker in `cwd` over the given KV persistence dir. */
export async function startWranglerDev(cwd: string, persistTo: string, extraArgs: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    nodeBin,
    [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--persist-to', persistTo, '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', '0', ...extraArgs],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }, detached: true },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${log}`);
    if (/Ready on/.test(log)) break;
    if (Date.now() > deadline) throw new Error(`wrangler dev not ready: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // The whole group: wrangler and the workerd it started.
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

export function summaryOf(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').find((l) => l.startsWith('{"event":"nightly-summary"'));
  if (!line) throw new Error(`no summary line in: ${stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}
