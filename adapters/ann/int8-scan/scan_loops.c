/*
 * The scan loops of int8_scan.c (declared in scan_loops.h): one plain-C loop for any CPU, and on x86-64 an AVX2 and
 * an AVX-512 VNNI loop, each compiled for its instruction set and chosen at load time. All three keep, per query,
 * a min-heap of the best rows while the blocks stream by, and give the same rows, sums and ties
 * (test/pipeline/int8-scan.test.ts compares them).
 */
#include "scan_loops.h"
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SIMD_LOOPS
#include <immintrin.h>
#endif

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

void scan_generic(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
  int32_t sums[LANES];
  for (size_t start = 0; start < rows; start += LANES) {
    const uint8_t* block = packed + (start / LANES) * dim * LANES;
    size_t count = rows - start < LANES ? rows - start : LANES;
    for (size_t q = 0; q < nq; q++) {
      hit_t* heap = heaps + q * k;
      uint32_t above = block_generic(block, groups, queries + q * dim, floor_of(heap, k, start), sums);
      take(heap, k, start, count, above, sums);
    }
  }
}

#ifdef HAVE_SIMD_LOOPS
/*
 * The AVX-512 VNNI scan, the block loop and the dot products in one function (no call per block and query).
 * vpdpbusd's latency is several cycles, so one chain of dependent adds would wait on each. Queries go four at a
 * time (four independent sums, and each loaded group of the block serves all four), the rest two at a time (two
 * sums each), a last one alone (four sums: groups mod 4). A batch of 4–8 queries costs about half as much per
 * query as the earlier one-block-one-query call (docs/benchmarks.md, tenth session). Same integer sums, heap and
 * ties as scan_generic() (test/pipeline/int8-scan.test.ts compares the loops on 7 queries, so every path runs).
 */
#define VNNI_Q(q, g) _mm512_set1_epi32(quad_of((q), (g)))
static inline int32_t quad_of(const int8_t* q, size_t g) {
  int32_t quad;
  memcpy(&quad, q + 4 * g, 4);
  return quad;
}

/* One query's 16 sums of a block into its heap: only when a lane beats the floor (or the heap still fills). */
__attribute__((target("avx512f,avx512vnni"))) static inline void take_vnni(__m512i sums, hit_t* heap, size_t k, size_t start, size_t count) {
  uint32_t above = (uint32_t)_mm512_cmpgt_epi32_mask(sums, _mm512_set1_epi32(floor_of(heap, k, start)));
  if (above == 0 && start >= k) return;
  int32_t out[LANES];
  _mm512_storeu_si512((void*)out, sums);
  take(heap, k, start, count, above, out);
}

__attribute__((target("avx512f,avx512vnni"))) void scan_vnni(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
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
      take_vnni(a, heaps + q * k, k, start, count);
      take_vnni(b, heaps + (q + 1) * k, k, start, count);
      take_vnni(c, heaps + (q + 2) * k, k, start, count);
      take_vnni(d, heaps + (q + 3) * k, k, start, count);
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
      take_vnni(_mm512_add_epi32(a0, a1), heaps + q * k, k, start, count);
      take_vnni(_mm512_add_epi32(b0, b1), heaps + (q + 1) * k, k, start, count);
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
      take_vnni(_mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3)), heaps + q * k, k, start, count);
    }
  }
}

/*
 * The AVX2 scan, the block loop inlined as in scan_vnni. vpmaddubsw multiplies the unsigned codes with the query's
 * signed codes and adds neighbours into 16-bit sums, which saturate past 32767; query codes within ±63 keep
 * 2 × 255 × 63 below that (the adapter quantises queries to ±63 for every loop). vpmaddwd with ones then adds the
 * pairs: 8 rows' 4-dimension sums per register, two registers (lo, hi) per block. Queries go two at a time, so each
 * loaded half-group of the block serves both and four sums are in flight; a last one alone.
 */
#define AVX2_DOTS(acc, half, q) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(half, q), ones))

/* One query's sums of a block (rows 0–7 in lo, 8–15 in hi) into its heap, as take_vnni. */
__attribute__((target("avx2"))) static inline void take_avx2(__m256i lo, __m256i hi, hit_t* heap, size_t k, size_t start, size_t count) {
  const __m256i f = _mm256_set1_epi32(floor_of(heap, k, start));
  uint32_t above = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(lo, f))) |
                   ((uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(hi, f))) << 8);
  if (above == 0 && start >= k) return;
  int32_t out[LANES];
  _mm256_storeu_si256((__m256i*)out, lo);
  _mm256_storeu_si256((__m256i*)(out + 8), hi);
  take(heap, k, start, count, above, out);
}

__attribute__((target("avx2"))) void scan_avx2(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps) {
  size_t groups = dim / 4;
  const __m256i ones = _mm256_set1_epi16(1);
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
      take_avx2(a_lo, a_hi, heaps + q * k, k, start, count);
      take_avx2(b_lo, b_hi, heaps + (q + 1) * k, k, start, count);
    }
    if (q < nq) {
      const int8_t* qa = queries + q * dim;
      __m256i a_lo = _mm256_setzero_si256(), a_hi = a_lo;
      for (size_t g = 0; g < groups; g++) {
        const uint8_t* group = block + g * 4 * LANES;
        const __m256i xa = _mm256_set1_epi32(quad_of(qa, g));
        AVX2_DOTS(a_lo, _mm256_loadu_si256((const __m256i*)group), xa);
        AVX2_DOTS(a_hi, _mm256_loadu_si256((const __m256i*)(group + 32)), xa);
      }
      take_avx2(a_lo, a_hi, heaps + q * k, k, start, count);
    }
  }
}
#endif

void sort_heaps(hit_t* heaps, size_t nq, size_t kept) {
  for (size_t q = 0; q < nq; q++) qsort(heaps + q * kept, kept, sizeof(hit_t), best_first);
}
