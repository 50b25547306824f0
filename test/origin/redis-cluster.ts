/**
 * A real 3-master Redis Cluster for a test file: three `redis-server --cluster-enabled yes` processes on free
 * ports in a private folder, joined by `redis-cli --cluster create … --cluster-yes`, ready once every node reports
 * cluster_state:ok. stop() kills the processes and removes the folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../nightly/helpers.ts';

const run = promisify(execFile);

export interface RedisClusterFixture {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

async function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server on ${port} did not start`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server on ${port} exited ${code}`)));
  });
  return child;
}

export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: both must be free and distinct.
    if (port + 10_000 <= 65_535 && !ports.includes(port)) ports.push(port);
  }
  const nodes: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => new Promise<void>((resolve) => {
      if (node.exitCode !== null || node.signalCode !== null) return resolve();
      node.once('exit', () => resolve());
      node.kill('SIGKILL');
    })));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) nodes.push(await startNode(port, dir));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on ${port}: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
}
