/*
 * Exact top-k inner-product search over int8 rows: the scan behind adapters/ann/int8-scan-index.ts.
 *
 * Why by hand: at 1M × 64 one query reads 64 MB of int8 codes (256 MB as float32), so a single request is bound
 * by memory bandwidth, and what decides its latency is scoring rows as fast as they stream in and keeping the top
 * k on the way, without materialising a score per row. The libraries at hand write and sort a million scores per
 * query: usearch's exactSearch and onnxruntime's MatMulInteger + TopK took 10–20 ms at 1M items; this scan takes
 * about 2–3 ms there for one query, and about 0.7 ms per query in a batch of 8 (docs/benchmarks.md).
 *
 * Layout (built by the adapter): rows in blocks of 16; inside a block, for each group of 4 dimensions, the 16 rows'
 * 4 codes (64 bytes), each code stored as an unsigned byte (code + 128). One AVX-512 VNNI instruction multiplies
 * such a group with the query's 4 codes and adds into the 16 rows' sums, so a row costs no horizontal reduction.
 * The +128 shift adds 128 × Σ query to every row of a query alike, so the order is the signed dot product's.
 * x86-64 CPUs without AVX-512 VNNI run an AVX2 loop; other CPUs the same loop in plain C (several times slower).
 *
 * search(packed: Uint8Array, rows, dim, queries: Int8Array, k, outRows: Int32Array, outScores: Int32Array) → kept
 *   dim is a multiple of 4; packed holds ceil(rows / 16) blocks of 16 × dim bytes; queries holds whole rows of dim.
 *   For each query, the min(k, rows) best rows (shifted integer dot product), best first, ties to the lower row,
 *   at [q × k, q × k + kept). A batch scores each block for every query while the block is in cache.
 * Query codes must lie within ±63 (see block_avx2). kernel() → "avx512-vnni" | "avx2" | "generic": the loop in use.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16

typedef struct {
  int32_t score;
  int32_t row;
} hit_t;

/*
 * The 16 rows' sums of one block with one query (groups = dim / 4) into out; returns the lanes whose sum is above
 * `floor` as a bit mask, so the common case (no row of the block beats the k-th best so far) costs one test.
 */
static uint32_t block_generic(const uint8_t* block, size_t groups, const int8_t* query, int32_t floor, int32_t* out) {
  int32_t acc[LANES] = {0};
  for (size_t g = 0; g < groups; g++) {
    const uint8_t* group = block + g * 4 * LANES;
    const int8_t* q = query + 4 * g;
    for (int j = 0; j < LANES; j++)
      acc[j] += group[4 * j] * q[0] + group[4 * j + 1] * q[1] + group[4 * j + 2] * q[2] + group[4 * j + 3] * q[3];
  }
  uint32_t mask = 0;
  for (int j = 0; j < LANES; j++) mask |= (uint32_t)(acc[j] > floor) << j;
  memcpy(out, acc, sizeof acc);
  return mask;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_VNNI_KERNEL 1
/*
 * AVX2: vpmaddubsw multiplies the unsigned codes with the query's signed codes and adds neighbours into 16-bit
 * sums, which saturate past 32767; query codes within ±63 keep 2 × 255 × 63 below that (the adapter quantises
 * queries to ±63 for every kernel). vpmaddwd with ones then adds the pairs: 8 rows' 4-dimension sums per register.
 */
__attribute__((target("avx2"))) static uint32_t block_avx2(const uint8_t* block, size_t groups, const int8_t* query, int32_t floor, int32_t* out) {
  __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t g = 0; g < groups; g++) {
    int32_t quad;
    memcpy(&quad, query + 4 * g, 4);
    const __m256i q = _mm256_set1_epi32(quad);
    const uint8_t* group = block + g * 4 * LANES;
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i*)group), q), ones));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i*)(group + 32)), q), ones));
  }
  _mm256_storeu_si256((__m256i*)out, lo);
  _mm256_storeu_si256((__m256i*)(out + 8), hi);
  const __m256i f = _mm256_set1_epi32(floor);
  uint32_t mask_lo = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(lo, f)));
  uint32_t mask_hi = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(hi, f)));
  return mask_lo | (mask_hi << 8);
}
#endif

typedef uint32_t (*block_fn)(const uint8_t*, size_t, const int8_t*, int32_t, int32_t*);
static block_fn block_dots = block_generic;
static const char* kernel_name = "generic";

/* a ranks below b: lower score, or the same score and a later row (so ties keep the earlier row). */
static inline int below(hit_t a, hit_t b) { return a.score < b.score || (a.score == b.score && a.row > b.row); }

/* Min-heap on `below`: the root is the worst hit kept, the one a better row replaces. */
static void sift_down(hit_t* heap, size_t size, size_t i) {
  for (;;) {
    size_t worst = i, left = 2 * i + 1, right = left + 1;
    if (left < size && below(heap[left], heap[worst])) worst = left;
    if (right < size && below(heap[right], heap[worst])) worst = right;
    if (worst == i) return;
    hit_t t = heap[i];
    heap[i] = heap[worst];
    heap[worst] = t;
    i = worst;
  }
}

static int best_first(const void* a, const void* b) {
  hit_t x = *(const hit_t*)a, y = *(const hit_t*)b;
  return below(y, x) ? -1 : below(x, y) ? 1 : 0;
}

static void offer(hit_t* heap, size_t k, size_t seen, hit_t hit) {
  if (seen < k) {
    heap[seen] = hit;
    if (seen + 1 == k)
      for (size_t i = k / 2; i-- > 0;) sift_down(heap, k, i);
  } else if (below(heap[0], hit)) {
    heap[0] = hit;
    sift_down(heap, k, 0);
  }
}

/* The rows of one block above the heap's floor (all of them while it fills) enter the heap. */
static inline void take(hit_t* heap, size_t k, size_t start, size_t count, uint32_t above, const int32_t* sums) {
  if (start < k) above = 0xFFFF;
  for (size_t j = 0; j < count; j++)
    if (above & (1u << j)) offer(heap, k, start + j, (hit_t){sums[j], (int32_t)(start + j)});
}

/* Once the heap is full a row must score above its worst to enter (an equal score loses: a later row). */
static inline int32_t floor_of(const hit_t* heap, size_t k, size_t start) { return start >= k ? heap[0].score : INT32_MIN; }

static void scan(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
  int32_t sums[LANES];
  for (size_t start = 0; start < rows; start += LANES) {
    const uint8_t* block = packed + (start / LANES) * dim * LANES;
    size_t count = rows - start < LANES ? rows - start : LANES;
    for (size_t q = 0; q < nq; q++) {
      hit_t* heap = heaps + q * k;
      uint32_t above = block_dots(block, groups, queries + q * dim, floor_of(heap, k, start), sums);
      take(heap, k, start, count, above, sums);
    }
  }
}

#ifdef HAVE_VNNI_KERNEL
/*
 * The AVX-512 VNNI scan, the block loop and the dot products in one function (no call per block and query).
 * vpdpbusd's latency is several cycles, so one chain of dependent adds would wait on each. Queries go four at a
 * time (four independent sums, and each loaded group of the block serves all four), the rest two at a time (two
 * sums each), a last one alone (four sums: groups mod 4). A batch of 4–8 queries costs about half as much per
 * query as the earlier one-block-one-query call (docs/benchmarks.md, tenth session). Same integer sums, heap and
 * ties as scan() (test/pipeline/int8-scan.test.ts compares the loops on 7 queries, so every path runs).
 */
#define VNNI_Q(q, g) _mm512_set1_epi32(quad_of((q), (g)))
static inline int32_t quad_of(const int8_t* q, size_t g) {
  int32_t quad;
  memcpy(&quad, q + 4 * g, 4);
  return quad;
}

__attribute__((target("avx512f,avx512vnni"))) static void scan_vnni(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
  int32_t sums_a[LANES], sums_b[LANES];
  for (size_t start = 0; start < rows; start += LANES) {
    const uint8_t* block = packed + (start / LANES) * dim * LANES;
    size_t count = rows - start < LANES ? rows - start : LANES;
    size_t q = 0;
    for (; q + 3 < nq; q += 4) {
      const int8_t *qa = queries + q * dim, *qb = qa + dim, *qc = qb + dim, *qd = qc + dim;
      __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
      for (size_t g = 0; g < groups; g++) {
        const __m512i x = _mm512_loadu_si512((const void*)(block + g * 4 * LANES));
        a = _mm512_dpbusd_epi32(a, x, VNNI_Q(qa, g));
        b = _mm512_dpbusd_epi32(b, x, VNNI_Q(qb, g));
        c = _mm512_dpbusd_epi32(c, x, VNNI_Q(qc, g));
        d = _mm512_dpbusd_epi32(d, x, VNNI_Q(qd, g));
      }
      const __m512i sums[4] = {a, b, c, d};
      for (int i = 0; i < 4; i++) {
        hit_t* heap = heaps + (q + i) * k;
        uint32_t above = (uint32_t)_mm512_cmpgt_epi32_mask(sums[i], _mm512_set1_epi32(floor_of(heap, k, start)));
        if (above != 0 || start < k) {
          _mm512_storeu_si512((void*)sums_a, sums[i]);
          take(heap, k, start, count, above, sums_a);
        }
      }
    }
    for (; q + 1 < nq; q += 2) {
      const int8_t *qa = queries + q * dim, *qb = qa + dim;
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
      size_t g = 0;
      for (; g + 1 < groups; g += 2) {
        const __m512i x = _mm512_loadu_si512((const void*)(block + g * 4 * LANES));
        const __m512i y = _mm512_loadu_si512((const void*)(block + (g + 1) * 4 * LANES));
        a0 = _mm512_dpbusd_epi32(a0, x, VNNI_Q(qa, g));
        b0 = _mm512_dpbusd_epi32(b0, x, VNNI_Q(qb, g));
        a1 = _mm512_dpbusd_epi32(a1, y, VNNI_Q(qa, g + 1));
        b1 = _mm512_dpbusd_epi32(b1, y, VNNI_Q(qb, g + 1));
      }
      if (g < groups) {
        const __m512i x = _mm512_loadu_si512((const void*)(block + g * 4 * LANES));
        a0 = _mm512_dpbusd_epi32(a0, x, VNNI_Q(qa, g));
        b0 = _mm512_dpbusd_epi32(b0, x, VNNI_Q(qb, g));
      }
      const __m512i sa = _mm512_add_epi32(a0, a1), sb = _mm512_add_epi32(b0, b1);
      hit_t *ha = heaps + q * k, *hb = ha + k;
      uint32_t above_a = (uint32_t)_mm512_cmpgt_epi32_mask(sa, _mm512_set1_epi32(floor_of(ha, k, start)));
      uint32_t above_b = (uint32_t)_mm512_cmpgt_epi32_mask(sb, _mm512_set1_epi32(floor_of(hb, k, start)));
      if ((above_a | above_b) != 0 || start < k) {
        _mm512_storeu_si512((void*)sums_a, sa);
        _mm512_storeu_si512((void*)sums_b, sb);
        take(ha, k, start, count, above_a, sums_a);
        take(hb, k, start, count, above_b, sums_b);
      }
    }
    if (q < nq) {
      const int8_t* qa = queries + q * dim;
      __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
      size_t g = 0;
      for (; g + 3 < groups; g += 4) {
        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void*)(block + g * 4 * LANES)), VNNI_Q(qa, g));
        s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512((const void*)(block + (g + 1) * 4 * LANES)), VNNI_Q(qa, g + 1));
        s2 = _mm512_dpbusd_epi32(s2, _mm512_loadu_si512((const void*)(block + (g + 2) * 4 * LANES)), VNNI_Q(qa, g + 2));
        s3 = _mm512_dpbusd_epi32(s3, _mm512_loadu_si512((const void*)(block + (g + 3) * 4 * LANES)), VNNI_Q(qa, g + 3));
      }
      for (; g < groups; g++) s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void*)(block + g * 4 * LANES)), VNNI_Q(qa, g));
      const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3));
      hit_t* heap = heaps + q * k;
      uint32_t above = (uint32_t)_mm512_cmpgt_epi32_mask(sum, _mm512_set1_epi32(floor_of(heap, k, start)));
      if (above != 0 || start < k) {
        _mm512_storeu_si512((void*)sums_a, sum);
        take(heap, k, start, count, above, sums_a);
      }
    }
  }
}
#endif

#ifdef HAVE_VNNI_KERNEL
/*
 * The AVX2 scan, the block loop inlined as in scan_vnni: queries two at a time, so each loaded half-group of the
 * block (32 bytes: 8 rows × 4 codes) serves both and four sums are in flight. Same sums as block_avx2.
 */
#define AVX2_DOTS(acc, half, q) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(half, q), ones))
__attribute__((target("avx2"))) static void scan_avx2(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
  const __m256i ones = _mm256_set1_epi16(1);
  int32_t sums[LANES];
  for (size_t start = 0; start < rows; start += LANES) {
    const uint8_t* block = packed + (start / LANES) * dim * LANES;
    size_t count = rows - start < LANES ? rows - start : LANES;
    size_t q = 0;
    for (; q + 1 < nq; q += 2) {
      const int8_t *qa = queries + q * dim, *qb = qa + dim;
      __m256i a_lo = _mm256_setzero_si256(), a_hi = a_lo, b_lo = a_lo, b_hi = a_lo;
      for (size_t g = 0; g < groups; g++) {
        const uint8_t* group = block + g * 4 * LANES;
        const __m256i lo = _mm256_loadu_si256((const __m256i*)group), hi = _mm256_loadu_si256((const __m256i*)(group + 32));
        const __m256i xa = _mm256_set1_epi32(quad_of(qa, g)), xb = _mm256_set1_epi32(quad_of(qb, g));
        AVX2_DOTS(a_lo, lo, xa);
        AVX2_DOTS(a_hi, hi, xa);
        AVX2_DOTS(b_lo, lo, xb);
        AVX2_DOTS(b_hi, hi, xb);
      }
      const __m256i pairs[2][2] = {{a_lo, a_hi}, {b_lo, b_hi}};
      for (int i = 0; i < 2; i++) {
        hit_t* heap = heaps + (q + i) * k;
        const __m256i f = _mm256_set1_epi32(floor_of(heap, k, start));
        uint32_t above = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(pairs[i][0], f))) |
                         ((uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(pairs[i][1], f))) << 8);
        if (above != 0 || start < k) {
          _mm256_storeu_si256((__m256i*)sums, pairs[i][0]);
          _mm256_storeu_si256((__m256i*)(sums + 8), pairs[i][1]);
          take(heap, k, start, count, above, sums);
        }
      }
    }
    if (q < nq) {
      hit_t* heap = heaps + q * k;
      uint32_t above = block_avx2(block, groups, queries + q * dim, floor_of(heap, k, start), sums);
      take(heap, k, start, count, above, sums);
    }
  }
}
#endif

typedef void (*scan_fn)(const uint8_t*, size_t, size_t, const int8_t*, size_t, size_t, hit_t*);
static scan_fn scan_rows = scan;

static void sort_heaps(hit_t* heaps, size_t nq, size_t kept) {
  for (size_t q = 0; q < nq; q++) qsort(heaps + q * kept, kept, sizeof(hit_t), best_first);
}

static napi_value fail(napi_env env, const char* message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static int typed(napi_env env, napi_value value, napi_typedarray_type want, void** data, size_t* length) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static int positive(napi_env env, napi_value value, size_t* out) {
  int64_t v;
  if (napi_get_value_int64(env, value, &v) != napi_ok || v <= 0) return 0;
  *out = (size_t)v;
  return 1;
}

static napi_value search(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7)
    return fail(env, "search(packed, rows, dim, queries, k, outRows, outScores)");
  void *packed, *queries, *out_rows, *out_scores;
  size_t packed_len, queries_len, rows_len, scores_len, rows, dim, k;
  if (!typed(env, argv[0], napi_uint8_array, &packed, &packed_len)) return fail(env, "packed: a Uint8Array");
  if (!positive(env, argv[1], &rows) || rows > INT32_MAX) return fail(env, "rows: a positive integer below 2^31");
  if (!positive(env, argv[2], &dim) || dim % 4 != 0 || dim > (1 << 16)) return fail(env, "dim: a positive multiple of 4, at most 65536");
  if (!typed(env, argv[3], napi_int8_array, &queries, &queries_len)) return fail(env, "queries: an Int8Array");
  if (!positive(env, argv[4], &k)) return fail(env, "k: a positive integer");
  if (!typed(env, argv[5], napi_int32_array, &out_rows, &rows_len)) return fail(env, "outRows: an Int32Array");
  if (!typed(env, argv[6], napi_int32_array, &out_scores, &scores_len)) return fail(env, "outScores: an Int32Array");
  if (packed_len < ((rows + LANES - 1) / LANES) * LANES * dim) return fail(env, "packed: fewer bytes than rows × dim in blocks of 16 rows");
  if (queries_len % dim != 0) return fail(env, "queries: whole rows of dim values");
  size_t nq = queries_len / dim;
  /* Divide rather than multiply: nq × k could wrap around for a huge k. */
  if (nq > 0 && (k > rows_len / nq || k > scores_len / nq)) return fail(env, "outRows and outScores: room for k hits per query");
  for (size_t i = 0; i < queries_len; i++)
    if (((const int8_t*)queries)[i] > 63 || ((const int8_t*)queries)[i] < -63) return fail(env, "queries: codes within ±63");

  /* Each query's heap holds at most the rows there are: min(k, rows) ≤ outRows.length / nq, so no product wraps. */
  size_t kept = rows < k ? rows : k;
  hit_t* heaps = malloc(sizeof(hit_t) * (nq * kept > 0 ? nq * kept : 1));
  if (heaps == NULL) return fail(env, "out of memory");
  scan_rows(packed, rows, dim, queries, nq, kept, heaps);
  sort_heaps(heaps, nq, kept);
  for (size_t q = 0; q < nq; q++)
    for (size_t i = 0; i < kept; i++) {
      ((int32_t*)out_rows)[q * k + i] = heaps[q * kept + i].row;
      ((int32_t*)out_scores)[q * k + i] = heaps[q * kept + i].score;
    }
  free(heaps);
  napi_value result;
  napi_create_uint32(env, (uint32_t)kept, &result);
  return result;
}

static napi_value kernel(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_string_utf8(env, kernel_name, NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
#ifdef HAVE_VNNI_KERNEL
  __builtin_cpu_init();
  /* INT8_SCAN_KERNEL=avx2|generic picks a slower loop on purpose (tests and benchmarks compare them). */
  const char* want = getenv("INT8_SCAN_KERNEL");
  int any = want == NULL || *want == 0;
  int allow_vnni = any || strcmp(want, "avx512-vnni") == 0, allow_avx2 = any || strcmp(want, "avx2") == 0;
  if (allow_vnni && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni")) {
    scan_rows = scan_vnni;
    kernel_name = "avx512-vnni";
  } else if (allow_avx2 && __builtin_cpu_supports("avx2")) {
    block_dots = block_avx2;
    scan_rows = scan_avx2;
    kernel_name = "avx2";
  }
#endif
  napi_value fn;
  napi_create_function(env, "search", NAPI_AUTO_LENGTH, search, NULL, &fn);
  napi_set_named_property(env, exports, "search", fn);
  napi_create_function(env, "kernel", NAPI_AUTO_LENGTH, kernel, NULL, &fn);
  napi_set_named_property(env, exports, "kernel", fn);
  return exports;
}
