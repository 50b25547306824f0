/**
 * Kill -9 halfway, then --resume: the KV content must equal an uninterrupted run's, and the resumed process
 * must skip the shards finished before the kill. Both runs use the real CLI on the built-in catalogue.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { dumpLocalKv, killGroup, spawnScript, summaryOf, tempDir } from './helpers.ts';

const NS = 'resume-test-ns';
const VERSION = 'v20261101T000000Z';
const AT = String(Date.UTC(2026, 10, 1));
const common = ['--namespace-id', NS, '--version', VERSION, '--at', AT, '--max-users', '500', '--shards', '10', '--batch', '64', '--no-progress'];

async function doneShards(stateFile: string): Promise<number> {
  try {
    return (JSON.parse(await readFile(stateFile, 'utf8')) as { doneShards: number[] }).doneShards.length;
  } catch {
    return 0;
  }
}

describe('nightly kill -9 and resume', () => {
  it('finishes without recomputing finished shards and writes exactly what an uninterrupted run writes', async () => {
    const [straightDir, killedDir] = await Promise.all([tempDir('nightly-straight'), tempDir('nightly-killed')]);
    const straight = spawnScript('scripts/nightly.ts', [...common, '--persist-to', straightDir, '--state-dir', join(straightDir, 'var')]);

    const killed = spawnScript('scripts/nightly.ts', [...common, '--persist-to', killedDir, '--state-dir', join(killedDir, 'var')]);
    const stateFile = join(killedDir, 'var', VERSION, 'state.json');
    const deadline = Date.now() + 150_000;
    while ((await doneShards(stateFile)) < 3 && Date.now() < deadline && killed.child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    killGroup(killed);
    const killedResult = await killed.done;
    expect(killedResult.signal).toBe('SIGKILL');
    const before = JSON.parse(await readFile(stateFile, 'utf8')) as { doneShards: number[]; completed: boolean };
    expect(before.completed).toBe(false);
    expect(before.doneShards.length).toBeGreaterThanOrEqual(3);
    expect(before.doneShards.length).toBeLessThan(10);
    // Killed before the flip: nothing is live in that namespace.
    expect((await dumpLocalKv(killedDir, NS)).has(SLATE_POINTER_KEY)).toBe(false);

    const resumed = await spawnScript('scripts/nightly.ts', [...common, '--resume', '--persist-to', killedDir, '--state-dir', join(killedDir, 'var')]).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = summaryOf(resumed.stdout);
    expect(summary.resumed, JSON.stringify(summary)).toBe(true);
    expect(summary.shardsSkipped).toBeGreaterThanOrEqual(before.doneShards.length);
    expect(summary.usersComputed).toBeLessThan(summary.users as number);

    const straightResult = await straight.done;
    expect(straightResult.code, straightResult.stderr).toBe(0);
    expect(summaryOf(straightResult.stdout).usersComputed).toBe(500);

    const [a, b] = await Promise.all([dumpLocalKv(straightDir, NS), dumpLocalKv(killedDir, NS)]);
    expect(a.size).toBeGreaterThan(500 + 10_000);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const differing = [...a.entries()].filter(([key, value]) => b.get(key) !== value).map(([key]) => key);
    // The meta carries the same counts either way; every slate, card and the pointer must be byte-identical.
    expect(differing).toEqual([]);
    await Promise.all([straightDir, killedDir].map((d) => rm(d, { recursive: true, force: true })));
  }, 240_000);
});
