/**
 * Milliseconds per stage for one batch run of the pipeline (PipelineResult.stageMs): every stage is timed
 * under its name, and a name used twice (the feature encoding before the user tower and before the DLRM)
 * adds up.
 */
export class StageClock {
  readonly ms: Record<string, number> = {};

  async time<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.ms[stage] = (this.ms[stage] ?? 0) + (performance.now() - t0);
    }
  }
}
