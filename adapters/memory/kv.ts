/**
 * An in-process KvWriter over a sorted Map: what the nightly writes, kept in this process's memory. For
 * benchmarks that measure the job's own cost (`npm run bench:nightly`: in production the writes leave the machine
 * as bulk HTTP requests, while the local adapter's workerd and SQLite share this machine's cores) and for dry
 * runs. Nothing survives the process; it is no stand-in for the edge's KV.
 */
import type { KvEntry, KvWriter } from '../../shared/kv/writer.ts';

export function openMemoryKv(): KvWriter & { readonly size: number } {
  const store = new Map<string, string>();
  return {
    get size() {
      return store.size;
    },
    putMany: async (entries: readonly KvEntry[]) => {
      for (const entry of entries) store.set(entry.key, entry.value);
    },
    get: async (key) => store.get(key) ?? null,
    getMany: async (keys) => keys.map((key) => store.get(key) ?? null),
    deleteMany: async (keys) => {
      for (const key of keys) store.delete(key);
    },
    list: async function* (prefix) {
      for (const key of [...store.keys()].filter((k) => k.startsWith(prefix)).sort()) yield key;
    },
    close: async () => undefined,
  };
}
