/**
 * Micro-batching: calls arriving within `windowMs` (or until `maxItems` have queued) are handed to one
 * batched function call, and each caller gets its own slice of the result. Concurrent requests thus share
 * one user-tower run and one DLRM run instead of paying per-call overhead each.
 */
export interface MicroBatcherOptions {
  windowMs: number;
  maxItems: number;
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
  /** Sizes of the batches run so far (tests and metrics read it). */
  readonly batchSizes: number[] = [];

  constructor(run: (inputs: I[]) => Promise<O[]>, options: MicroBatcherOptions) {
    this.run = run;
    this.options = options;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.flush();
      else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.batchSizes.length < 10_000) this.batchSizes.push(batch.length);
    this.run(batch.map((p) => p.input)).then(
      (outputs) => {
        batch.forEach((p, i) => {
          if (i < outputs.length) p.resolve(outputs[i] as O);
          else p.reject(new Error('batched call returned fewer results than inputs'));
        });
      },
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  }
}
