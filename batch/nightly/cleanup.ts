/**
 * Deletes old slate versions from KV. A version is kept while it is the live one, the one before it
 * (instant rollback), or younger than the grace period (readers holding an old pointer, or a run in flight).
 */
import { SLATE_POINTER_KEY, VERSION_META_PREFIX, VERSION_RUN_PREFIX, versionPrefixes, versionRunKey } from '../../shared/kv/keys.ts';
import { listAll, type KvWriter } from '../../shared/kv/writer.ts';
import { SlatePointerSchema } from '../../shared/contracts/slate.ts';

export const DEFAULT_GRACE_MS = 48 * 3_600_000;

/** Epoch ms a version id (newSlateVersion: vYYYYMMDDTHHMMSSZ) was created; NaN when it does not parse. */
export function versionTime(version: string): number {
  const match = /^v(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(version);
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Pure decision: which versions to delete. `finished` are versions with a meta key, `all` every known version. */
export function versionsToDelete(all: readonly string[], finished: readonly string[], current: string | undefined, now: number, graceMs: number): string[] {
  const previous = [...finished].filter((v) => current !== undefined && v < current).sort().at(-1);
  return [...new Set(all)]
    .filter((v) => v !== current && v !== previous)
    .filter((v) => {
      const t = versionTime(v);
      return Number.isFinite(t) && now - t > graceMs;
    })
    .sort();
}

export async function cleanupVersions(kv: KvWriter, now: number, graceMs: number): Promise<string[]> {
  const pointerText = await kv.get(SLATE_POINTER_KEY);
  const current = pointerText === null ? undefined : SlatePointerSchema.parse(JSON.parse(pointerText)).version;
  const finished = (await listAll(kv, VERSION_META_PREFIX)).map((key) => key.slice(VERSION_META_PREFIX.length));
  const started = (await listAll(kv, VERSION_RUN_PREFIX)).map((key) => key.slice(VERSION_RUN_PREFIX.length));
  const doomed = versionsToDelete([...finished, ...started], finished, current, now, graceMs);
  for (const version of doomed) {
    for (const prefix of versionPrefixes(version)) {
      const keys = await listAll(kv, prefix);
      if (keys.length > 0) await kv.deleteMany(keys);
    }
    // The run marker goes last: if clean-up dies midway, the version is still found next time.
    await kv.deleteMany([versionRunKey(version)]);
  }
  return doomed;
}
