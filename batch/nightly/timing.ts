/** Accumulates wall time per nightly stage (pipeline, encode, kv_write, …) and the pipeline's own stage times. */
export class StageTimer {
  private readonly ms = new Map<string, number>();

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  timeSync<T>(stage: string, work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  totals(): Record<string, number> {
    return Object.fromEntries([...this.ms.entries()].sort().map(([stage, ms]) => [stage, Math.round(ms)]));
  }
}
