/**
 * Fixtures for tests of the real edge worker in local workerd (`wrangler dev` with edge/wrangler.jsonc):
 * build the worker's generated files, write KV through the nightly job's local adapter (the same persistence
 * wrangler dev reads), start the worker pointed at an origin.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signUserToken } from '../../shared/auth/user-token.ts';
import { encodeSlate, type ItemCard, type SlateEntry } from '../../shared/contracts/slate.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { itemFeaturesOf } from '../../shared/features/encode.ts';
import { encodeSessionVector, sessionVectorOf } from '../../shared/features/session-vectors.ts';
import { readManifest, readSessionVectors } from '../../core/registry/artifacts.ts';
import { itemCardKey, SLATE_POINTER_KEY, slateKey, versionMetaKey, type SlateSubject } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { freePort, nodeBin, root } from '../nightly/helpers.ts';

export const NAMESPACE_ID = 'edge-reco-slates';
export const MODEL_VERSION = (JSON.parse(readFileSync(join(root, 'models', 'artifacts', 'current.json'), 'utf8')) as { version: string }).version;
export const MODEL_DIR = join(root, 'models', 'artifacts', MODEL_VERSION);
export const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(MODEL_DIR, 'feature_space.json'), 'utf8'))));
/** The committed version's session vectors, which the nightly writes into slates and cards. */
export const vectors = await readSessionVectors(MODEL_DIR, await readManifest(MODEL_DIR));

export function buildEdge(): void {
  const result = spawnSync(nodeBin, [join(root, 'edge', 'scripts', 'build.ts')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`edge build failed: ${result.stderr}`);
}

export function openKv(persistTo: string): Promise<KvWriter> {
  return openLocalKv({ persistTo, namespaceId: NAMESPACE_ID });
}

/** The secret the test edges (and origins, where they verify tokens) share with the "site" that mints tokens. */
export const TOKEN_SECRET = 'test-user-token-secret-0123456789abcdef';

/** A user token as the site's backend would mint it (valid for `ttlSeconds`). */
export function userToken(userId: string, ttlSeconds = 600, secret = TOKEN_SECRET): Promise<string> {
  return signUserToken(secret, userId, Math.floor(Date.now() / 1000) + ttlSeconds);
}

/**
 * A slate of real catalogue items (features from the served model's feature space). As the nightly writes
 * them, it carries its items' cards (`stock` per id, default 5); `cards: false` writes an older, card-less slate.
 */
export function slateOf(version: string, itemIds: readonly string[], at: number, reason = 'Popular right now', options: { cards?: boolean; stock?: Record<string, number>; modelVersion?: string } = {}): string {
  const entries: SlateEntry[] = itemIds.map((id, rank) => ({ id, score: 1 - rank / itemIds.length, ...itemFeaturesOf(space, space.itemIndex(id), vectors), reason }));
  const cards = options.cards === false ? undefined : itemIds.map((id) => cardValue(id, options.stock?.[id] ?? 5));
  return JSON.stringify(encodeSlate({ slateVersion: version, modelVersion: options.modelVersion ?? MODEL_VERSION, at }, entries, cards));
}

function cardValue(id: string, stock: number): ItemCard {
  const index = space.itemIndex(id);
  const vector = sessionVectorOf(vectors, index);
  return { id, t: `Item ${id}`, pr: 10 + index, img: `/img/${id}.svg`, cat: space.data.categories[space.category(index) - 1] ?? 'x', f: [space.category(index), space.brand(index), space.priceBucket(index)], ...(vector ? { v: encodeSessionVector(vector) } : {}), st: stock };
}

export function cardOf(id: string, stock = 5): string {
  return JSON.stringify(cardValue(id, stock));
}

export async function writeVersion(kv: KvWriter, version: string, slates: [SlateSubject, string][], cards: [string, string][]): Promise<void> {
  await kv.putMany([
    ...slates.map(([subject, value]) => ({ key: slateKey(version, subject), value })),
    ...cards.map(([id, value]) => ({ key: itemCardKey(version, id), value })),
  ]);
  // As the nightly job does: the version's meta, then the pointer, last.
  await kv.putMany([{ key: versionMetaKey(version), value: JSON.stringify({ version, modelVersion: MODEL_VERSION, slates: slates.length, items: cards.length }) }]);
  await kv.putMany([{ key: SLATE_POINTER_KEY, value: JSON.stringify({ version, modelVersion: MODEL_VERSION, createdAt: Date.now() }) }]);
}

export interface RunningEdge {
  url: string;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * `wrangler dev` of the real edge worker on a free port, over `persistTo`, with vars (and secrets) overridden;
 * USER_TOKEN_SECRET defaults to TOKEN_SECRET. `entry`: another entry point, e.g. 'edge/src/index.free.ts'.
 */
export async function startEdge(persistTo: string, vars: Record<string, string>, options: { entry?: string } = {}): Promise<RunningEdge> {
  const port = await freePort();
  const varArgs = Object.entries({ USER_TOKEN_SECRET: TOKEN_SECRET, ...vars }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const entry = options.entry ? [join(root, options.entry)] : [];
  const child = spawn(
    nodeBin,
    [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', ...entry, '--config', join(root, 'edge', 'wrangler.jsonc'), '--persist-to', persistTo,
      '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', '0', ...varArgs],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }, detached: true },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!/Ready on/.test(log)) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`wrangler dev not ready: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/**
 * GET /v1/recommendations as a signed-in shopper's page does: when the query names a user, a token for that
 * user (minted with TOKEN_SECRET, as the site's backend would) goes in X-User-Token.
 */
export async function fetchRecommendations(edgeUrl: string, query: string): Promise<Response> {
  const user = new URLSearchParams(query).get('user');
  const headers: Record<string, string> = user ? { 'x-user-token': await userToken(user) } : {};
  return fetch(`${edgeUrl}/v1/recommendations?${query}`, { headers });
}
