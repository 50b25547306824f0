/**
 * `npm start`: the whole demo on embedded defaults, one command. `npm start -- --dataset ml-100k [--path DIR]`
 * runs it on MovieLens-100K instead (scripts/demo/dataset.ts: convert → import → train → nightly, then the same).
 *   1. origin (Node, Hono) on ORIGIN_PORT — PGlite when no DATABASE_URL, in-process feature store when no REDIS_URL;
 *      it seeds the built-in catalogue and shopper histories on first start;
 *   2. the nightly job once — slates for every user/segment into the local KV persistence, then the pointer flip;
 *   3. the edge worker in local workerd (`wrangler dev`, same KV persistence), pointed at the origin;
 *   4. prints the demo page URLs: anonymous, and signed in as a few shoppers with user tokens it mints — the
 *      launcher plays the shop's backend, which holds the token secret (USER_TOKEN_SECRET, random per run
 *      unless set). Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isDemoDataset, prepareDemoDataset, type PreparedDemo } from './dataset.ts';
import { signUserToken } from '../../shared/auth/user-token.ts';

const root = join(import.meta.dirname, '..', '..');
const originPort = Number(process.env.ORIGIN_PORT ?? 3000);
const edgePort = Number(process.env.EDGE_PORT ?? 8787);
const persistTo = process.env.KV_PERSIST_DIR ?? join(root, '.wrangler', 'state');
const nodeBin = process.execPath;
/** The demo's API key for the operator endpoints (export, erase, experiments); set API_KEYS to use your own. */
const apiKey = (process.env.API_KEYS ?? 'demo-key-change-me-0123456789').split(',')[0] ?? '';
/** Shared by the "shop backend" (this launcher), the edge and the origin; see docs/security.md. */
const tokenSecret = process.env.USER_TOKEN_SECRET ?? randomBytes(32).toString('base64url');
const children: ChildProcess[] = [];
const { values: flags } = parseArgs({ options: { dataset: { type: 'string', default: 'generated' }, path: { type: 'string' } } });

function log(message: string): void {
  console.log(`[demo] ${message}`);
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer): string => chunk.toString().replace(/^(?=.)/gm, `[${name}] `);
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  children.push(child);
  return child;
}

async function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const child = start(name, command, args, env);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${name} exited with code ${code}`);
}

async function waitFor(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

function stopAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

async function main(): Promise<void> {
  let demo: PreparedDemo | undefined;
  if (flags.dataset !== 'generated') {
    if (!isDemoDataset(flags.dataset)) throw new Error(`--dataset ${flags.dataset}: expected generated, ml-100k or ml-1m-pairs`);
    demo = await prepareDemoDataset(root, flags.dataset, flags.path, (name, script, args, env) => run(name, nodeBin, [join(root, script), ...args], env), log);
  } else if (!existsSync(join(root, 'models', 'artifacts', 'current.json'))) {
    throw new Error('models/artifacts/current.json is missing: run `npm run train` (needs python3-torch) or restore the committed demo models');
  }
  process.on('SIGINT', () => {
    stopAll();
    process.exit(0);
  });
  process.on('SIGTERM', () => {
    stopAll();
    process.exit(0);
  });

  const originUrl = `http://127.0.0.1:${originPort}`;
  const nightlyArgs = [join(root, 'scripts', 'nightly.ts'), '--kv', 'local', '--persist-to', persistTo, ...(demo?.nightlyArgs ?? [])];
  if (demo) {
    // Before the origin: an embedded PGlite database is opened by one process at a time.
    log('running the nightly job once on the imported users (slates → local KV, then the version pointer flips)');
    await run('nightly', nodeBin, nightlyArgs);
  }
  log(`starting origin on ${originUrl} (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'}, ${process.env.REDIS_URL ? 'Redis' : 'in-process feature store'})`);
  // The origin's GET /v1/export streams the slates the nightly writes into the same local KV as the edge reads,
  // and DELETE /v1/users/:id erases a user's slates there (the edge stops serving them at once, locally).
  const origin = start('origin', nodeBin, [join(root, 'origin', 'server.ts')], { PORT: String(originPort), HOST: '127.0.0.1', SLATES_KV: 'local', ERASE_SLATES_KV: 'local', KV_PERSIST_DIR: persistTo, API_KEYS: process.env.API_KEYS ?? apiKey, USER_TOKEN_SECRET: tokenSecret, ...demo?.originEnv });
  await waitFor(`${originUrl}/readyz`, 120_000, origin);

  if (!demo) {
    log('running the nightly job once (slates → local KV, then the version pointer flips)');
    await run('nightly', nodeBin, nightlyArgs);
  }

  await run('edge-build', nodeBin, [join(root, 'edge', 'scripts', 'build.ts')]);
  log(`starting the edge worker in local workerd on http://127.0.0.1:${edgePort}`);
  const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const edge = start(
    'edge',
    nodeBin,
    [wrangler, 'dev', '--config', join(root, 'edge', 'wrangler.jsonc'), '--port', String(edgePort), '--ip', '127.0.0.1',
      '--persist-to', persistTo, '--var', `ORIGIN_URL:${originUrl}`, '--var', `USER_TOKEN_SECRET:${tokenSecret}`, '--var', `ORIGIN_API_KEY:${apiKey}`],
    { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  );
  await waitFor(`http://127.0.0.1:${edgePort}/healthz`, 120_000, edge);

  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  // Tokens as a shop's backend mints them on each page render (here valid for the maximum, 24 hours).
  const tokenFor = (user: string): Promise<string> => signUserToken(tokenSecret, user, Math.floor(Date.now() / 1000) + 24 * 3600 - 60);
  log('');
  log(`demo page:        ${edgeUrl}/demo            (anonymous visitor)`);
  const shoppers = demo?.users ?? ['u1', 'u2', 'u3'];
  for (const user of shoppers) log(`signed in as ${user}:  ${edgeUrl}/demo?user=${user}&token=${await tokenFor(user)}`);
  log(`edge API:         curl -H 'x-user-token: ${await tokenFor(shoppers[0] ?? 'u1')}' '${edgeUrl}/v1/recommendations?user=${shoppers[0] ?? 'u1'}&k=8'`);
  log(`origin API:       ${originUrl}/openapi.json`);
  log(`batch export:     curl -H 'x-api-key: ${apiKey}' '${originUrl}/v1/export?segment=${demo?.segment ?? 'gamers'}&format=csv'`);
  log(`experiments:      ORIGIN_URL=${originUrl} API_KEY=${apiKey} npm run experiment -- list`);
  log('Ctrl-C stops everything.');
  await new Promise<void>((resolve) => {
    for (const child of [origin, edge]) child.on('exit', () => resolve());
  });
  stopAll();
  throw new Error('a demo process exited; see its log above');
}

main().catch((error: unknown) => {
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  stopAll();
  process.exit(1);
});
