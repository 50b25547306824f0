/*
 * The scan loops behind int8_scan.c's search(), apart from its N-API boundary.
 *
 * Layout (built by the adapter, adapters/ann/int8-scan-packing.ts): rows in blocks of 16; inside a block, for each
 * group of 4 dimensions, the 16 rows' 4 codes (64 bytes), each code stored as an unsigned byte (code + 128). One
 * AVX-512 VNNI instruction multiplies such a group with the query's 4 codes and adds into the 16 rows' sums, so a
 * row costs no horizontal reduction. The +128 shift adds 128 × Σ query to every row of a query alike, so the order
 * is the signed dot product's. x86-64 CPUs without AVX-512 VNNI run an AVX2 loop; other CPUs the same loop in plain
 * C (several times slower). Query codes must lie within ±63 (the AVX2 loop's 16-bit sums; see scan_avx2).
 *
 * Every loop: scan_x(packed, rows, dim, queries, nq, k, heaps) leaves in heaps[q × k, q × k + k) the k best rows of
 * query q (k ≤ rows), unordered; sort_heaps then orders each best first, ties to the lower row. A batch scores
 * each block for every query while the block is in cache.
 */
#ifndef INT8_SCAN_LOOPS_H
#define INT8_SCAN_LOOPS_H
#include <stddef.h>
#include <stdint.h>

#define LANES 16

typedef struct {
  int32_t score;
  int32_t row;
} hit_t;

typedef void (*scan_fn)(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps);

void scan_generic(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SIMD_LOOPS 1
void scan_avx2(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps);
void scan_vnni(const uint8_t* packed, size_t rows, size_t dim, const int8_t* queries, size_t nq, size_t k, hit_t* heaps);
#endif

void sort_heaps(hit_t* heaps, size_t nq, size_t kept);
#endif
