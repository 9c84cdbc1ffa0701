#pragma once
// Internal to the kernels: a convolution's per-element finish, applied to
// runs of one output channel while they are in cache: the forward's
// (kernels::ConvEpilogue with raw pointers) and the input gradient's
// (kernels::ConvGradientEpilogue).

#include <cstdint>

#include "over_rows.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace trim::kernels::detail {

/// d[0, len) = act(d + bias + r): a run of one output channel (r, when set,
/// holds the residual's matching run). act is the identity, the ReLU
/// (`relu`; a NaN gives 0, as kernels::relu_forward) or, with clip_max > 0,
/// min(max(·, 0), clip_max) as ops::Clip computes it (a NaN stays NaN).
inline void finish_run(float* d, int64_t len, float bias, const float* r, bool relu, float clip_max = 0.0f) {
  int64_t l = 0;
#if defined(__AVX512F__)
  const __m512 b = _mm512_set1_ps(bias), zero = _mm512_setzero_ps(), top = _mm512_set1_ps(clip_max);
  for (; l + 16 <= len; l += 16) {
    __m512 v = _mm512_add_ps(_mm512_loadu_ps(d + l), b);
    if (r) v = _mm512_add_ps(v, _mm512_loadu_ps(r + l));
    if (relu) v = _mm512_max_ps(v, zero);  // the second operand (0) for NaN
    if (clip_max > 0.0f) v = _mm512_min_ps(top, _mm512_max_ps(zero, v));  // v for NaN
    _mm512_storeu_ps(d + l, v);
  }
#endif
  for (; l < len; ++l) {
    float v = d[l] + bias;
    if (r) v += r[l];
    if (relu) v = v > 0.0f ? v : 0.0f;
    if (clip_max > 0.0f) {
      v = v < 0.0f ? 0.0f : v;
      v = v > clip_max ? clip_max : v;
    }
    d[l] = v;
  }
}

/// d[0, len) = 0 + d·[gate > 0] when gate is set (a ReLU's backward, gate its
/// output's matching run), then d·scale + 0 when `scaled` (a batch norm's):
/// the bits those backward passes give on their own.
inline void finish_gradient_run(float* d, int64_t len, const float* gate, bool scaled, float scale) {
  if (gate)
    for (int64_t l = 0; l < len; ++l) {
      const float m = gate[l] > 0.0f ? 1.0f : 0.0f;
      d[l] = 0.0f + d[l] * m;
    }
  if (scaled)
    for (int64_t l = 0; l < len; ++l) d[l] = d[l] * scale + 0.0f;
}

/// y = act(y + residual) with each part optional (finish_run's act: the
/// ReLU, or a clip to [0, clip_max] when clip_max > 0); the residual has the
/// output's layout. An input gradient's finish is finish_gradient_run's
/// instead: the gate has the output's layout, the scale one float per
/// channel (run()'s `channel`, counted from the pointer's first channel).
struct Finish {
  const float* residual = nullptr;
  bool relu = false;
  float clip_max = 0.0f;
  const float* gate = nullptr;
  const float* scale = nullptr;
  bool any() const { return residual || relu || clip_max > 0.0f || gradient(); }
  /// An input gradient's finish (never with the forward's parts).
  bool gradient() const { return gate || scale; }
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
    if (relu) v = _mm512_max_ps(v, zero);
    if (clip_max > 0.0f) v = _mm512_min_ps(_mm512_set1_ps(clip_max), _mm512_max_ps(zero, v));
    return v;
  }
#endif
  /// y[at, at + len) = act(y + bias + residual): a run of output channel
  /// `channel` (or the input gradient's finish).
  void run(float* y, int64_t at, int64_t len, float bias, int64_t channel) const {
    if (gradient())
      finish_gradient_run(y + at, len, gate ? gate + at : nullptr, scale != nullptr, scale ? scale[channel] : 0.0f);
    else
      finish_run(y + at, len, bias, residual ? residual + at : nullptr, relu, clip_max);
  }
};

/// after.run over whole planes: y holds `planes` planes of `plane` floats,
/// plane i of channel i % channels. The finish of the paths that do not
/// apply it in their stores.
inline void finish_planes(float* y, int64_t planes, int64_t plane, int64_t channels, const Finish& after) {
  if (!after.any()) return;
  over_rows(planes, planes * plane, kSplitFloats, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) after.run(y, i * plane, plane, 0.0f, i % channels);
  });
}

}  // namespace trim::kernels::detail
