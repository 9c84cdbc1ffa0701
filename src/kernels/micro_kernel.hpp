#pragma once
// Internal to the kernels: the register-blocked GEMM micro-kernel the
// convolutions share (im2col GEMMs in conv.cpp, Winograd products in
// conv_winograd.cpp). One call computes a kMR × kNR tile of C over a depth
// of kc from an A panel (any row and depth strides) and a B panel of kNR
// consecutive floats per depth step.

#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace trim::kernels::detail {

#if defined(__GNUC__)
#define TRIM_KERNEL_INLINE inline __attribute__((always_inline))
#else
#define TRIM_KERNEL_INLINE inline
#endif

/// Rows and columns of the register tile.
constexpr int64_t kMR = 6, kNR = 16;

/// Where the micro-kernel reads A's rows: row r at step q is ptr[r·ars + q·aqs].
struct APanelRef {
  const float* ptr;
  int64_t ars, aqs;
};

#if defined(__AVX512F__)
/// acc[r] = Σ_q a[r·ars + q·aqs] · b[q·ldb .. + 16) over kc steps, where A's
/// row r at step q is a[r·ars + q·aqs] (a packed panel: ars = 1, aqs = kMR;
/// A read in place: its row and depth strides) and b holds kNR consecutive
/// floats per step, ldb apart. One 16-float register per row: each step is
/// one load of b and six multiply-adds whose a operand is broadcast from
/// memory inside the instruction (no separate broadcasts competing with the
/// multiply-adds for execution ports).
inline void multiply_tile(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb,
                          __m512 (&acc)[kMR]) {
  __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps(), c3 = _mm512_setzero_ps(),
         c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
  const float *a0 = a, *a1 = a + ars, *a2 = a + 2 * ars, *a3 = a + 3 * ars, *a4 = a + 4 * ars, *a5 = a + 5 * ars;
  for (int64_t q = 0, o = 0; q < kc; ++q, o += aqs) {
    const __m512 bv = _mm512_loadu_ps(b);
    c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[o]), bv, c0);
    c1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[o]), bv, c1);
    c2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[o]), bv, c2);
    c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[o]), bv, c3);
    c4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[o]), bv, c4);
    c5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[o]), bv, c5);
    b += ldb;
  }
  acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;
}

/// c[kMR×kNR] (row stride ldc) = or += A · b over kc steps (multiply_tile).
inline void micro_kernel(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb, float* c,
                         int64_t ldc, bool accumulate) {
  __m512 acc[kMR];
  multiply_tile(kc, a, ars, aqs, b, ldb, acc);
  for (int64_t r = 0; r < kMR; ++r) {
    float* row = c + r * ldc;
    _mm512_storeu_ps(row, accumulate ? _mm512_add_ps(acc[r], _mm512_loadu_ps(row)) : acc[r]);
  }
}

/// multiply_tile against two B panels (b and b2, same ldb) at once: acc and
/// acc2. Twelve accumulators, each A element broadcast once for two
/// multiply-adds. The GEMMs' packed A blocks stream from L2 past B panels
/// held in L1, so this halves their L2 traffic; and cores with two 512-bit
/// multiply-add ports (Intel Xeon) need more than six chains to cover the
/// multiply-add latency. Each element sums in the same order as in
/// multiply_tile.
inline void multiply_two_tiles(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, const float* b2,
                               int64_t ldb, __m512 (&acc)[kMR], __m512 (&acc2)[kMR]) {
  __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
  __m512 y0 = x0, y1 = x0, y2 = x0, y3 = x0, y4 = x0, y5 = x0;
  const float *a0 = a, *a1 = a + ars, *a2 = a + 2 * ars, *a3 = a + 3 * ars, *a4 = a + 4 * ars, *a5 = a + 5 * ars;
  for (int64_t q = 0, o = 0; q < kc; ++q, o += aqs) {
    const __m512 u = _mm512_loadu_ps(b), v = _mm512_loadu_ps(b2);
    __m512 s = _mm512_set1_ps(a0[o]);
    x0 = _mm512_fmadd_ps(s, u, x0), y0 = _mm512_fmadd_ps(s, v, y0);
    s = _mm512_set1_ps(a1[o]);
    x1 = _mm512_fmadd_ps(s, u, x1), y1 = _mm512_fmadd_ps(s, v, y1);
    s = _mm512_set1_ps(a2[o]);
    x2 = _mm512_fmadd_ps(s, u, x2), y2 = _mm512_fmadd_ps(s, v, y2);
    s = _mm512_set1_ps(a3[o]);
    x3 = _mm512_fmadd_ps(s, u, x3), y3 = _mm512_fmadd_ps(s, v, y3);
    s = _mm512_set1_ps(a4[o]);
    x4 = _mm512_fmadd_ps(s, u, x4), y4 = _mm512_fmadd_ps(s, v, y4);
    s = _mm512_set1_ps(a5[o]);
    x5 = _mm512_fmadd_ps(s, u, x5), y5 = _mm512_fmadd_ps(s, v, y5);
    b += ldb, b2 += ldb;
  }
  acc[0] = x0, acc[1] = x1, acc[2] = x2, acc[3] = x3, acc[4] = x4, acc[5] = x5;
  acc2[0] = y0, acc2[1] = y1, acc2[2] = y2, acc2[3] = y3, acc2[4] = y4, acc2[5] = y5;
}

/// micro_kernel on one A panel against two B panels (b and b2) at once
/// (multiply_two_tiles), into c[kMR×kNR] and c2[kMR×kNR] (row stride ldc).
inline void micro_kernel_two_b(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, const float* b2,
                               int64_t ldb, float* c, float* c2, int64_t ldc, bool accumulate) {
  // The tiles' rows are fetched while the products run: rows a plane apart
  // (4 KB on 32×32 planes) missed the caches at the stores, which took a
  // third of the kernel's time there.
  for (int64_t r = 0; r < kMR; ++r) __builtin_prefetch(c + r * ldc, 1), __builtin_prefetch(c2 + r * ldc, 1);
  __m512 acc[kMR], acc2[kMR];
  multiply_two_tiles(kc, a, ars, aqs, b, b2, ldb, acc, acc2);
  for (int64_t r = 0; r < kMR; ++r) {
    float *row = c + r * ldc, *row2 = c2 + r * ldc;
    _mm512_storeu_ps(row, accumulate ? _mm512_add_ps(acc[r], _mm512_loadu_ps(row)) : acc[r]);
    _mm512_storeu_ps(row2, accumulate ? _mm512_add_ps(acc2[r], _mm512_loadu_ps(row2)) : acc2[r]);
  }
}

/// The first R rows of micro_kernel's tile (R < kMR): see micro_kernel_rows.
/// Named accumulators, the unused ones dropped at compile time (an array
/// indexed in a loop over R was kept in memory by GCC).
template <int R>
inline void micro_kernel_first(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb,
                               float* c, int64_t ldc, bool accumulate) {
  static_assert(1 <= R && R < kMR, "fewer rows than micro_kernel");
  __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps(), c3 = _mm512_setzero_ps(),
         c4 = _mm512_setzero_ps();
  for (int64_t q = 0, o = 0; q < kc; ++q, o += aqs) {
    const __m512 bv = _mm512_loadu_ps(b);
    c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[o]), bv, c0);
    if constexpr (R > 1) c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[ars + o]), bv, c1);
    if constexpr (R > 2) c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2 * ars + o]), bv, c2);
    if constexpr (R > 3) c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3 * ars + o]), bv, c3);
    if constexpr (R > 4) c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4 * ars + o]), bv, c4);
    b += ldb;
  }
  const auto put = [&](int64_t r, __m512 v) {
    float* row = c + r * ldc;
    _mm512_storeu_ps(row, accumulate ? _mm512_add_ps(v, _mm512_loadu_ps(row)) : v);
  };
  put(0, c0);
  if constexpr (R > 1) put(1, c1);
  if constexpr (R > 2) put(2, c2);
  if constexpr (R > 3) put(3, c3);
  if constexpr (R > 4) put(4, c4);
}

/// Stores (or adds) tile row r at c + r·ldc in four runs of four floats, gs
/// apart (lanes 4g .. 4g + 3 at c + r·ldc + g·gs).
inline void store_split4(const __m512 (&acc)[kMR], float* c, int64_t ldc, int64_t gs, bool accumulate) {
  const auto put = [&](float* d, __m128 v) {
    if (accumulate) v = _mm_add_ps(v, _mm_loadu_ps(d));
    _mm_storeu_ps(d, v);
  };
  for (int64_t r = 0; r < kMR; ++r) {
    float* row = c + r * ldc;
    put(row, _mm512_extractf32x4_ps(acc[r], 0));
    put(row + gs, _mm512_extractf32x4_ps(acc[r], 1));
    put(row + 2 * gs, _mm512_extractf32x4_ps(acc[r], 2));
    put(row + 3 * gs, _mm512_extractf32x4_ps(acc[r], 3));
  }
}

/// micro_kernel whose tile goes out through store_split4: a tile over the
/// 2×2 planes of four examples, stored where they lie instead of through a
/// tile buffer.
inline void micro_kernel_split4(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb,
                                float* c, int64_t ldc, int64_t gs, bool accumulate) {
  __m512 acc[kMR];
  multiply_tile(kc, a, ars, aqs, b, ldb, acc);
  store_split4(acc, c, ldc, gs, accumulate);
}

/// micro_kernel_split4 on two B panels at once (multiply_two_tiles): the
/// second tile's examples start at c2.
inline void micro_kernel_two_b_split4(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b,
                                      const float* b2, int64_t ldb, float* c, float* c2, int64_t ldc, int64_t gs,
                                      bool accumulate) {
  __m512 acc[kMR], acc2[kMR];
  multiply_two_tiles(kc, a, ars, aqs, b, b2, ldb, acc, acc2);
  store_split4(acc, c, ldc, gs, accumulate);
  store_split4(acc2, c2, ldc, gs, accumulate);
}
#elif defined(__AVX2__) && defined(__FMA__)
/// c[R×kNR] (row stride ldc) = or += the first R rows of A · b over kc steps
/// (A's row r at step q is a[r·ars + q·aqs]), where b holds kNR consecutive
/// floats per step, ldb apart. Twelve named accumulators, the unused ones
/// dropped at compile time: an array indexed in a loop over R was kept in
/// memory by GCC (eight stores per step for R = 5). Always inlined, as
/// micro_kernel was before it became the R = 6 case: left to itself GCC
/// called it out of line, through the PLT, from most GEMM loops.
template <int R>
TRIM_KERNEL_INLINE void micro_kernel_first(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b,
                                           int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  static_assert(1 <= R && R <= kMR, "1 to kMR rows");
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
         c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
         c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
         c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t q = 0; q < kc; ++q) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    const auto row = [&](int64_t r, __m256& lo, __m256& hi) {
      const __m256 av = _mm256_broadcast_ss(a + r * ars);
      lo = _mm256_fmadd_ps(av, b0, lo);
      hi = _mm256_fmadd_ps(av, b1, hi);
    };
    row(0, c00, c01);
    if constexpr (R > 1) row(1, c10, c11);
    if constexpr (R > 2) row(2, c20, c21);
    if constexpr (R > 3) row(3, c30, c31);
    if constexpr (R > 4) row(4, c40, c41);
    if constexpr (R > 5) row(5, c50, c51);
    a += aqs;
    b += ldb;
  }
  const auto put = [&](int64_t r, __m256 lo, __m256 hi) {
    float* dst = c + r * ldc;
    if (accumulate) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(dst));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(dst + 8));
    }
    _mm256_storeu_ps(dst, lo);
    _mm256_storeu_ps(dst + 8, hi);
  };
  put(0, c00, c01);
  if constexpr (R > 1) put(1, c10, c11);
  if constexpr (R > 2) put(2, c20, c21);
  if constexpr (R > 3) put(3, c30, c31);
  if constexpr (R > 4) put(4, c40, c41);
  if constexpr (R > 5) put(5, c50, c51);
}

/// c[kMR×kNR] (row stride ldc) = or += A · b over kc steps (A's row r at step q
/// is a[r·ars + q·aqs]), where b holds kNR consecutive floats per step, ldb apart.
inline void micro_kernel(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb, float* c,
                         int64_t ldc, bool accumulate) {
  micro_kernel_first<kMR>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
}
#else
/// Portable version (builds without AVX2/FMA): the first R rows of the tile.
template <int R>
inline void micro_kernel_first(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb,
                               float* c, int64_t ldc, bool accumulate) {
  float t[R * kNR] = {};
  for (int64_t q = 0; q < kc; ++q, a += aqs, b += ldb)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t l = 0; l < kNR; ++l) t[r * kNR + l] += a[r * ars] * b[l];
  for (int64_t r = 0; r < R; ++r)
    for (int64_t l = 0; l < kNR; ++l) c[r * ldc + l] = accumulate ? c[r * ldc + l] + t[r * kNR + l] : t[r * kNR + l];
}

inline void micro_kernel(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, int64_t ldb, float* c,
                         int64_t ldc, bool accumulate) {
  micro_kernel_first<kMR>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
}
#endif

#if !defined(__AVX512F__)
/// micro_kernel on one A panel against two B panels (b and b2), into c and
/// c2: two calls here, one twelve-accumulator kernel with AVX-512.
inline void micro_kernel_two_b(int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b, const float* b2,
                               int64_t ldb, float* c, float* c2, int64_t ldc, bool accumulate) {
  micro_kernel(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
  micro_kernel(kc, a, ars, aqs, b2, ldb, c2, ldc, accumulate);
}
#endif

/// micro_kernel over the first `rows` rows of A only (1 ≤ rows ≤ kMR; rows
/// past them in c are not written): a ragged last panel costs its own rows
/// rather than a whole panel's. Ragged panels are common: 64 and 128 rows
/// are 10⅔ and 21⅓ panels, DenseNet's 32 output channels 5⅓. Every
/// element sums in the same order as in micro_kernel.
inline void micro_kernel_rows(int64_t rows, int64_t kc, const float* a, int64_t ars, int64_t aqs, const float* b,
                              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  static_assert(kMR == 6, "one case per row count below kMR");
  switch (rows) {
    case 1: return micro_kernel_first<1>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
    case 2: return micro_kernel_first<2>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
    case 3: return micro_kernel_first<3>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
    case 4: return micro_kernel_first<4>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
    case 5: return micro_kernel_first<5>(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
    default: return micro_kernel(kc, a, ars, aqs, b, ldb, c, ldc, accumulate);
  }
}

}  // namespace trim::kernels::detail
