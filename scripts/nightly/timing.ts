/** Accumulates wall time per nightly stage (pipeline, encode, kv_write, …) and the pipeline's own stage times. */
export class StageTimer {
  private readonly ms = new Map<string, number>();

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  /**
   * The pipeline reports per-result stage times; in a batch call each result carries its share of the batch
   * (or the whole batch's time), so they are recorded under `pipeline.<stage>` as the caller passes them.
   */
  addPipelineStage(stage: string, ms: number, _batchSize: number): void {
    this.add(`pipeline.${stage}`, ms);
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
