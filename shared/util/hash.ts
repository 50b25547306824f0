/**
 * FNV-1a 32-bit hash of a string's UTF-16 code units. Used wherever a stable, runtime-independent bucket is
 * needed (experiment assignment, nightly shards, cache keys): it gives the same answer in Node, workerd and
 * the browser.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Maps a key to a bucket in [0, buckets). */
export function bucketOf(key: string, buckets: number): number {
  return fnv1a32(key) % buckets;
}
