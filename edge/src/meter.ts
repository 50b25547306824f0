/**
 * Per-request cost accounting: KV reads (what Workers KV bills) and the isolate's compute time, i.e. the
 * request's wall time minus the time spent waiting on I/O (KV, Cache API, origin fetches). Overlapping waits
 * (parallel reads) are counted once, as the union of their intervals.
 *
 * Why this is CPU time, and where it is not: in local workerd (`wrangler dev`) performance.now() advances
 * continuously, and with one request at a time nothing else runs on the isolate's thread, so wall time
 * outside I/O waits is the isolate's CPU time (JS, WASM, GC) for this request. On Cloudflare, performance.now()
 * is frozen between I/O events (Spectre mitigation), so the same figure there reads near 0: use Workers
 * Observability's CPU time in production. Hence Server-Timing is only emitted when CPU_TIMING=on.
 */
export class RequestMeter {
  kvReads = 0;
  private readonly started = performance.now();
  private ioMs = 0;
  private pending = 0;
  private ioSince = 0;

  /** Awaits I/O, excluding its wait from the compute figure. */
  async io<T>(work: Promise<T>): Promise<T> {
    if (this.pending++ === 0) this.ioSince = performance.now();
    try {
      return await work;
    } finally {
      if (--this.pending === 0) this.ioMs += performance.now() - this.ioSince;
    }
  }

  /** Milliseconds of compute so far (wall time minus I/O waits). */
  computeMs(): number {
    const openIo = this.pending > 0 ? performance.now() - this.ioSince : 0;
    return Math.max(0, performance.now() - this.started - this.ioMs - openIo);
  }

  waitedMs(): number {
    return this.ioMs;
  }
}

/** The KV reads of one request, counted and timed. */
export class MeteredKv {
  private readonly kv: KVNamespace;
  readonly meter: RequestMeter;

  constructor(kv: KVNamespace, meter: RequestMeter) {
    this.kv = kv;
    this.meter = meter;
  }

  json(key: string, cacheTtl: number): Promise<unknown> {
    this.meter.kvReads++;
    return this.meter.io(this.kv.get(key, { type: 'json', cacheTtl }));
  }

  bytes(key: string, cacheTtl: number): Promise<ArrayBuffer | null> {
    this.meter.kvReads++;
    return this.meter.io(this.kv.get(key, { type: 'arrayBuffer', cacheTtl }));
  }
}
