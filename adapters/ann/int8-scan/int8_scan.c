/*
 * Exact top-k inner-product search over int8 rows: the native part of adapters/ann/int8-scan-index.ts (the N-API
 * boundary and the choice of loop; the loops themselves are in scan_loops.c).
 *
 * Why by hand: at 1M × 64 one query reads 64 MB of int8 codes (256 MB as float32), so a single request is bound
 * by memory bandwidth, and what decides its latency is scoring rows as fast as they stream in and keeping the top
 * k on the way, without materialising a score per row. The libraries at hand write and sort a million scores per
 * query: usearch's exactSearch and onnxruntime's MatMulInteger + TopK took 10–20 ms at 1M items; this scan takes
 * about 2–3 ms there for one query, and about 0.7 ms per query in a batch of 8 (docs/benchmarks.md).
 *
 * search(packed: Uint8Array, rows, dim, queries: Int8Array, k, outRows: Int32Array, outScores: Int32Array) → kept
 *   dim is a multiple of 4; packed holds ceil(rows / 16) blocks of 16 × dim bytes (layout: scan_loops.h); queries
 *   holds whole rows of dim. For each query, the min(k, rows) best rows (shifted integer dot product), best first,
 *   ties to the lower row, at [q × k, q × k + kept).
 * Query codes must lie within ±63. kernel() → "avx512-vnni" | "avx2" | "generic": the loop in use.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "scan_loops.h"

static scan_fn scan_rows = scan_generic;
static const char* kernel_name = "generic";

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
#ifdef HAVE_SIMD_LOOPS
  __builtin_cpu_init();
  /* INT8_SCAN_KERNEL=avx2|generic picks a slower loop on purpose (tests and benchmarks compare them). */
  const char* want = getenv("INT8_SCAN_KERNEL");
  int any = want == NULL || *want == 0;
  int allow_vnni = any || strcmp(want, "avx512-vnni") == 0, allow_avx2 = any || strcmp(want, "avx2") == 0;
  if (allow_vnni && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni")) {
    scan_rows = scan_vnni;
    kernel_name = "avx512-vnni";
  } else if (allow_avx2 && __builtin_cpu_supports("avx2")) {
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
