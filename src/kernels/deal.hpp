#pragma once
// Internal to the kernels: splitting a run of floats into its even- and
// odd-indexed elements. Stride-2 convolutions and poolings read every other
// input column; dealt into two contiguous halves first, their inner loops
// read contiguous memory and vectorise.

#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace trim::kernels::detail {

/// even[i] = src[2i] for 2i < len, odd[i] = src[2i + 1] for 2i + 1 < len.
/// Reads src[0, len) only.
inline void deal_pairs(const float* src, int64_t len, float* even, float* odd) {
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512i e = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i o = _mm512_add_epi32(e, _mm512_set1_epi32(1));
  for (; 2 * i + 32 <= len; i += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * i), b = _mm512_loadu_ps(src + 2 * i + 16);
    _mm512_storeu_ps(even + i, _mm512_permutex2var_ps(a, e, b));
    _mm512_storeu_ps(odd + i, _mm512_permutex2var_ps(a, o, b));
  }
#endif
  for (; 2 * i < len; ++i) {
    even[i] = src[2 * i];
    if (2 * i + 1 < len) odd[i] = src[2 * i + 1];
  }
}

/// dst[2i] = even[i], dst[2i + 1] = odd[i] for i < n: the inverse of
/// deal_pairs (writes dst[0, 2n)).
inline void interleave_pairs(const float* even, const float* odd, int64_t n, float* dst) {
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_loadu_ps(even + i), b = _mm512_loadu_ps(odd + i);
    _mm512_storeu_ps(dst + 2 * i, _mm512_permutex2var_ps(a, lo, b));
    _mm512_storeu_ps(dst + 2 * i + 16, _mm512_permutex2var_ps(a, hi, b));
  }
#endif
  for (; i < n; ++i) {
    dst[2 * i] = even[i];
    dst[2 * i + 1] = odd[i];
  }
}

}  // namespace trim::kernels::detail
