/**
 * Erases one user's precomputed slates from KV across every slate version still stored (the current one and
 * any older version kept for rollback), so an erased user is not served a personal slate by the edge.
 * Versions are found from the small meta/run marker listings, never by listing all slates.
 */
import { SLATE_POINTER_KEY, VERSION_META_PREFIX, VERSION_RUN_PREFIX, slateKey } from '../../shared/kv/keys.ts';
import { listAll, type KvWriter } from '../../shared/kv/writer.ts';

export async function storedSlateVersions(kv: KvWriter): Promise<string[]> {
  const versions = new Set<string>();
  for (const prefix of [VERSION_META_PREFIX, VERSION_RUN_PREFIX]) for (const key of await listAll(kv, prefix)) versions.add(key.slice(prefix.length));
  const pointer = await kv.get(SLATE_POINTER_KEY);
  if (pointer) {
    try {
      const version = (JSON.parse(pointer) as { version?: unknown }).version;
      if (typeof version === 'string') versions.add(version);
    } catch {
      // a malformed pointer is the nightly's problem; the listed versions are still erased
    }
  }
  return [...versions];
}

export function slateEraser(kv: KvWriter): (userId: string) => Promise<void> {
  return async (userId) => {
    const versions = await storedSlateVersions(kv);
    if (versions.length > 0) await kv.deleteMany(versions.map((version) => slateKey(version, { kind: 'user', id: userId })));
  };
}
