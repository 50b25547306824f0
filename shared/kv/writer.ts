/**
 * KV writer port used by the nightly job, the export and the clean-up. Two real adapters live in
 * adapters/kv/: local (Miniflare over the same persistence dir as `wrangler dev`) and Cloudflare's
 * KV REST API (bulk write/delete). Values are strings (JSON); the edge reads them with `KV.get(key, 'json')`.
 */
export interface KvEntry {
  key: string;
  /** Text (JSON) value, or base64 of binary bytes when `base64` is set (as Cloudflare's bulk API takes it). */
  value: string;
  base64?: boolean;
}

export interface KvWriter {
  /** Writes all entries; the adapter batches and retries as its backend requires. */
  putMany(entries: readonly KvEntry[]): Promise<void>;
  get(key: string): Promise<string | null>;
  /** Values of many keys, same order (null where missing). */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  deleteMany(keys: readonly string[]): Promise<void>;
  /** All keys starting with prefix, in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
  close(): Promise<void>;
}

/** Collects an async key listing into an array (small listings only: meta and marker keys). */
export async function listAll(writer: KvWriter, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of writer.list(prefix)) keys.push(key);
  return keys;
}
