/**
 * The int8 scan's quantisation and memory layout (the scan itself: int8-scan/int8_scan.c and its loops in scan_loops.c; the index around it:
 * int8-scan-index.ts). Each dimension gets its own scale. The scale comes from the bulk of the values (twice a
 * sampled 99.9th percentile of |value|), not from the single largest one: one item whose vector is 100× the rest
 * would otherwise leave every other item a handful of codes in that dimension. Rows with a value past the
 * scale are clamped and listed as outliers, which every query re-scores in float32, so they are never missed.
 * Where that would list too many rows (heavy tails), the largest |value| sets the scale as before.
 */

/** Rows per block and dimensions per group of the packed layout (int8-scan/scan_loops.h). */
const LANES = 16;
const GROUP = 4;
/** Rows sampled for the per-dimension percentile. */
const SAMPLE_ROWS = 4096;
/** At most this share of rows (or 256) may be outliers; past it the scale covers every value. */
const MAX_OUTLIER_SHARE = 0.001;

export interface PackedRows {
  /** Blocks of 16 rows; per block, per group of 4 dimensions, the 16 rows' 4 codes as unsigned bytes (code + 128). */
  packed: Uint8Array;
  /** dim rounded up to a multiple of 4 (the padding dimensions hold code 0). */
  paddedDim: number;
  /** Per dimension: float value ≈ code × scale. */
  scales: Float32Array;
  /** Rows with a value clamped to ±127 codes: their int8 score is too low, so every query re-scores them exactly. */
  outliers: Int32Array;
}

/** Per-dimension symmetric int8 quantisation, packed for the scan. */
export function packRows(vectors: Float32Array, dim: number): PackedRows {
  const steps = packSteps(vectors, dim);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * packRows in slices of `rowsPerSlice` rows with the event loop served in between: at 1M × 64 the whole packing takes
 * about a second here, which a model swap in a serving origin must not spend in one go (a slice: ~15 ms).
 */
export async function packRowsYielding(vectors: Float32Array, dim: number, rowsPerSlice = 16_384): Promise<PackedRows> {
  const steps = packSteps(vectors, dim, rowsPerSlice);
  let step = steps.next();
  while (!step.done) {
    await new Promise((resolve) => setImmediate(resolve));
    step = steps.next();
  }
  return step.value;
}

function* packSteps(vectors: Float32Array, dim: number, rowsPerSlice = Number.POSITIVE_INFINITY): Generator<void, PackedRows> {
  const size = Math.floor(vectors.length / dim);
  const largest = new Float32Array(dim);
  const stride = Math.max(1, Math.floor(size / SAMPLE_ROWS));
  const sampled = Math.ceil(size / stride);
  const sample = new Float32Array(sampled * dim);
  for (let r = 0; r < size; r++) {
    const base = r * dim;
    for (let d = 0; d < dim; d++) {
      const a = Math.abs(vectors[base + d]!);
      if (a > largest[d]!) largest[d] = a;
    }
    if (r % stride === 0) for (let d = 0; d < dim; d++) sample[d * sampled + r / stride] = Math.abs(vectors[base + d]!);
    if ((r + 1) % rowsPerSlice === 0) yield;
  }
  const bulk = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    const column = sample.subarray(d * sampled, (d + 1) * sampled).sort(); // NaN sorts last
    const p999 = column[Math.floor(0.999 * (sampled - 1))] ?? 0;
    bulk[d] = Number.isFinite(p999) && p999 > 0 ? Math.min(largest[d]!, 2 * p999) : largest[d]!;
  }
  const paddedDim = Math.ceil(dim / GROUP) * GROUP;
  const packed = new Uint8Array(Math.ceil(size / LANES) * LANES * paddedDim);
  const limit = Math.max(256, Math.ceil(size * MAX_OUTLIER_SHARE));
  let result = yield* quantise(vectors, dim, size, bulk, packed, paddedDim, limit, rowsPerSlice);
  if (result === undefined) result = yield* quantise(vectors, dim, size, largest, packed, paddedDim, Number.POSITIVE_INFINITY, rowsPerSlice);
  return result!;
}

/** Codes for every row at these per-dimension bounds; undefined when more than `limit` rows fall outside them. */
function* quantise(vectors: Float32Array, dim: number, size: number, bound: Float32Array, packed: Uint8Array, paddedDim: number, limit: number, rowsPerSlice: number): Generator<void, PackedRows | undefined> {
  const scales = new Float32Array(dim);
  const inverse = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    scales[d] = bound[d]! > 0 && Number.isFinite(bound[d]!) ? bound[d]! / 127 : 1;
    inverse[d] = 1 / scales[d]!;
  }
  packed.fill(128);
  const outliers: number[] = [];
  for (let r = 0; r < size; r++) {
    const base = r * dim;
    const at = Math.floor(r / LANES) * LANES * paddedDim + (r % LANES) * GROUP;
    let clamped = false;
    for (let d = 0; d < dim; d++) {
      const code = Math.round(vectors[base + d]! * inverse[d]!) || 0; // NaN → 0
      if (code > 127 || code < -127) clamped = true;
      packed[at + (d >> 2) * GROUP * LANES + (d & 3)] = (code > 127 ? 127 : code < -127 ? -127 : code) + 128;
    }
    if (clamped && outliers.push(r) > limit) return undefined;
    if ((r + 1) % rowsPerSlice === 0) yield;
  }
  return { packed, paddedDim, scales, outliers: Int32Array.from(outliers) };
}

/** Query codes stay within ±63: the AVX2 loop's 16-bit pair sums (2 × 255 × 63) must not saturate (int8-scan/scan_loops.c). */
const QUERY_LIMIT = 63;

/** The query folded with the rows' scales (q·v ≈ Σ (q_d s_d) code_d) and quantised with a scale of its own. */
export function quantiseQuery(query: Float32Array, offset: number, scales: Float32Array, out: Int8Array, outOffset: number): void {
  const dim = scales.length;
  let max = 0;
  for (let d = 0; d < dim; d++) {
    const v = Math.abs(query[offset + d]! * scales[d]!);
    if (v > max) max = v;
  }
  const inv = max > 0 && Number.isFinite(max) ? QUERY_LIMIT / max : 0;
  for (let d = 0; d < dim; d++) out[outOffset + d] = Math.round(query[offset + d]! * scales[d]! * inv) || 0;
}
