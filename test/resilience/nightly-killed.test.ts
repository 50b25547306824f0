/**
 * A nightly run killed (kill -9, like a crashed host) in the middle of writing a new version: the edge in
 * workerd keeps serving the previous version, because the pointer only flips once a version is complete.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecommendResponse } from '../../shared/contracts/recommend.ts';
import { SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { buildEdge, cardOf, fetchRecommendations, NAMESPACE_ID, openKv, slateOf, startEdge, writeVersion, type RunningEdge } from '../edge/support.ts';
import { killGroup, spawnScript, tempDir } from '../nightly/helpers.ts';

let persistTo = '';
let edge: RunningEdge;

beforeAll(async () => {
  buildEdge();
  persistTo = await tempDir('nightly-killed-kv');
  const kv = await openKv(persistTo);
  await writeVersion(kv, 'vprevious', [[{ kind: 'user', id: 'u1' }, slateOf('vprevious', ['i1', 'i2', 'i3'], Date.now())]], ['i1', 'i2', 'i3'].map((id) => [id, cardOf(id)]));
  await kv.close();
  edge = await startEdge(persistTo, { ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_TIMEOUT_MS: '200' });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe('nightly killed mid-write', () => {
  it('leaves the previous slate version live at the edge', async () => {
    const stateDir = join(persistTo, 'state');
    const run = spawnScript('scripts/nightly.ts', ['--kv', 'local', '--persist-to', persistTo, '--namespace-id', NAMESPACE_ID, '--state-dir', stateDir, '--max-users', '400', '--shards', '8', '--batch', '32', '--no-progress']);
    // Wait until the new version has written some user shards, then kill the whole process group.
    const deadline = Date.now() + 150_000;
    let version = '';
    for (;;) {
      if (run.child.exitCode !== null) throw new Error(`the run finished before it could be killed: ${(await run.done).stderr}`);
      if (Date.now() > deadline) throw new Error('no shard finished in time');
      try {
        version = (await readdir(stateDir))[0] ?? '';
        const state = JSON.parse(await readFile(join(stateDir, version, 'state.json'), 'utf8')) as { doneShards: number[] };
        if (state.doneShards.length >= 2) break;
      } catch {
        // not started yet
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    killGroup(run);
    expect((await run.done).signal).toBe('SIGKILL');

    const kv = await openKv(persistTo);
    const pointer = JSON.parse((await kv.get(SLATE_POINTER_KEY)) ?? '{}') as { version?: string };
    let written = 0;
    for await (const _key of kv.list(`slate:${version}:user:`)) written++;
    await kv.close();
    expect(pointer.version).toBe('vprevious');
    expect(version).not.toBe('vprevious');
    // The killed run did write part of its version (a real partial write)...
    expect(written).toBeGreaterThan(0);
    // ...and the edge still serves the previous one.
    const answer = (await (await fetchRecommendations(edge.url, 'user=u1&k=3')).json()) as RecommendResponse;
    expect(answer).toMatchObject({ path: 'kv-slate', slateVersion: 'vprevious' });
    expect(answer.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i3']);
  }, 180_000); // the wait above has its own 150 s deadline (10,000 item cards come first; slow on a loaded machine)
});
