/** Clean-up of old slate versions, decided purely and applied to a real local KV (Miniflare). */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cleanupVersions, versionsToDelete, versionTime } from '../../batch/nightly/cleanup.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { itemCardKey, newSlateVersion, SLATE_POINTER_KEY, slateKey, versionMetaKey, versionRunKey } from '../../shared/kv/keys.ts';
import { listAll } from '../../shared/kv/writer.ts';
import { tempDir } from './helpers.ts';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 10, 10, 12);
const v = (hoursAgo: number): string => newSlateVersion(new Date(now - hoursAgo * HOUR));

describe('versionsToDelete', () => {
  it('parses version ids back to their time', () => {
    expect(versionTime(v(5))).toBe(now - 5 * HOUR);
    expect(versionTime('garbage')).toBeNaN();
  });
  it('keeps the live version, the one before it and anything inside the grace period', () => {
    const all = [v(200), v(100), v(80), v(60), v(10)];
    // v(60) is live, v(80) is the previous finished one, v(10) is young (maybe still running).
    expect(versionsToDelete(all, [v(200), v(100), v(80), v(60)], v(60), now, 48 * HOUR)).toEqual([v(200), v(100)]);
    // Without a live pointer nothing old is protected except by age.
    expect(versionsToDelete(all, [], undefined, now, 48 * HOUR)).toEqual([v(200), v(100), v(80), v(60)]);
  });
});

describe('cleanupVersions on a local KV', () => {
  it('deletes every key of expired versions, finished or not, and nothing else', async () => {
    const persistTo = await tempDir('nightly-cleanup');
    const kv = await openLocalKv({ persistTo, namespaceId: 'cleanup-ns' });
    try {
      const versions = { expiredFinished: v(100), expiredPartial: v(90), previous: v(70), live: v(50), running: v(1) };
      const entriesOf = (version: string, finished: boolean) => [
        { key: versionRunKey(version), value: '{}' },
        { key: slateKey(version, { kind: 'user', id: 'u1' }), value: '{}' },
        { key: slateKey(version, { kind: 'popular' }), value: '{}' },
        { key: itemCardKey(version, 'i1'), value: '{}' },
        ...(finished ? [{ key: versionMetaKey(version), value: '{}' }] : []),
      ];
      await kv.putMany([
        ...entriesOf(versions.expiredFinished, true),
        ...entriesOf(versions.expiredPartial, false),
        ...entriesOf(versions.previous, true),
        ...entriesOf(versions.live, true),
        ...entriesOf(versions.running, false),
        { key: SLATE_POINTER_KEY, value: JSON.stringify({ version: versions.live, modelVersion: 'm', createdAt: now }) },
      ]);
      const deleted = await cleanupVersions(kv, now, 48 * HOUR);
      expect(deleted).toEqual([versions.expiredFinished, versions.expiredPartial]);
      const left = await listAll(kv, '');
      for (const gone of [versions.expiredFinished, versions.expiredPartial]) expect(left.filter((key) => key.includes(gone))).toEqual([]);
      for (const kept of [versions.previous, versions.live, versions.running]) expect(left.filter((key) => key.includes(kept)).length).toBeGreaterThanOrEqual(4);
      expect(left).toContain(SLATE_POINTER_KEY);
    } finally {
      await kv.close();
      await rm(persistTo, { recursive: true, force: true });
    }
  });
});
