/**
 * Micro-batching: concurrent calls are handed to one batched function call and each caller gets its own
 * slice of the result, so concurrent requests share one user-tower run, one ANN batch search and one DLRM
 * run. When nothing is running, the queue is flushed on the next turn of the event loop (it collects the
 * calls made in the same tick, at no added latency for a lone request); while a batch runs, new calls wait
 * for it to finish or for `windowMs`, whichever comes first, or until `maxItems` have queued.
 */
export interface MicroBatcherOptions {
  windowMs: number;
  maxItems: number;
  /** Told each batch's size as it starts (the origin's origin_pipeline_batch_size histogram). */
  onBatch?: ((size: number) => void) | undefined;
}

interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcher<I, O> {
  private readonly run: (inputs: I[]) => Promise<O[]>;
  private readonly options: MicroBatcherOptions;
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private inFlight = 0;
  /** Sizes of the batches run so far (tests and metrics read it; bounded). */
  readonly batchSizes: number[] = [];

  constructor(run: (inputs: I[]) => Promise<O[]>, options: MicroBatcherOptions) {
    this.run = run;
    this.options = options;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.flush();
      else if (this.inFlight === 0) this.immediate ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    const batch = this.queue.splice(0, this.options.maxItems);
    if (batch.length === 0) return;
    if (this.batchSizes.length >= 10_000) this.batchSizes.splice(0, 5_000);
    this.batchSizes.push(batch.length);
    this.options.onBatch?.(batch.length);
    this.inFlight++;
    this.run(batch.map((p) => p.input))
      .then(
        (outputs) => {
          batch.forEach((p, i) => {
            if (i < outputs.length) p.resolve(outputs[i] as O);
            else p.reject(new Error('batched call returned fewer results than inputs'));
          });
        },
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        // Whatever queued while this batch ran goes next, without waiting out the window.
        if (this.queue.length > 0 && this.inFlight === 0) this.flush();
      });
  }
}
