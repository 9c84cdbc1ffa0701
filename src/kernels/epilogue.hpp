#pragma once
// Internal to the kernels: the forward convolution's per-element finish
// (kernels::ConvEpilogue with raw pointers), applied to runs of one output
// channel while they are in cache.

#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace trim::kernels::detail {

/// d[0, len) = relu?(d + bias + r): a run of one output channel (r, when
/// set, holds the residual's matching run).
inline void finish_run(float* d, int64_t len, float bias, const float* r, bool relu) {
  int64_t l = 0;
#if defined(__AVX512F__)
  const __m512 b = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
  for (; l + 16 <= len; l += 16) {
    __m512 v = _mm512_add_ps(_mm512_loadu_ps(d + l), b);
    if (r) v = _mm512_add_ps(v, _mm512_loadu_ps(r + l));
    if (relu) v = _mm512_max_ps(v, zero);  // the second operand (0) for NaN
    _mm512_storeu_ps(d + l, v);
  }
#endif
  for (; l < len; ++l) {
    float v = d[l] + bias;
    if (r) v += r[l];
    d[l] = relu && !(v > 0.0f) ? 0.0f : v;  // as kernels::relu_forward: NaN gives 0
  }
}

/// y = max(0, y + residual) with each part optional; the residual has the
/// output's layout.
struct Finish {
  const float* residual = nullptr;
  bool relu = false;
  bool any() const { return residual || relu; }
#if defined(__AVX512F__)
  /// The finish of 16 values v bound for y[at, at + 16) (lanes outside `k`
  /// are not read), applied before they are stored: run()'s operations with
  /// bias 0, without reading back what a masked store just wrote (on Zen 4
  /// such narrow loads wait for the store: per row of a 4×4 plane that was
  /// 8 % slower than the store without a ReLU).
  __m512 apply(__m512 v, int64_t at, __mmask16 k) const {
    const __m512 zero = _mm512_setzero_ps();
    v = _mm512_add_ps(v, zero);
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, residual + at));
    return relu ? _mm512_max_ps(v, zero) : v;
  }
#endif
  /// y[at, at + len) = relu?(y + bias + residual): a run of one output channel.
  void run(float* y, int64_t at, int64_t len, float bias = 0.0f) const {
    finish_run(y + at, len, bias, residual ? residual + at : nullptr, relu);
  }
};

}  // namespace trim::kernels::detail
