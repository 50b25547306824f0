/**
 * A small time-bounded cache in isolate memory (module scope lives as long as the isolate, typically minutes
 * to hours, one per Cloudflare location and machine). It trades a stated staleness bound for KV reads that
 * are billed per call: the pointer, the pending item changes and item cards are read at most once per TTL per
 * isolate. Bounded in entries (oldest inserted evicted first) so a hostile stream of ids cannot grow it.
 */
export class IsolateCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get(key: string, now: number): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V, ttlMs: number, now: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: now + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** The cached value, else `load()` (cached for ttlMs when not undefined). Concurrent misses each load. */
  async getOrLoad(key: string, ttlMs: number, now: number, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.get(key, now);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== undefined) this.set(key, value, ttlMs, now);
    return value;
  }
}
