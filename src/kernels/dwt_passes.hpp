#pragma once
// Internal: the 1-D passes of the wavelet filter banks (dwt_passes.cpp) that
// the multilevel drivers in dwt.cpp chain: a pass filters a batch of lines
// (signals, rows or columns) of one level. See dwt.cpp for the design.
#include <cstdint>
#include <vector>

#include "trim/kernels/dwt.hpp"

namespace trim::kernels::detail {

struct Recipe {
  int64_t m = 0;
  int count = 0;
  int64_t idx[3] = {0, 0, 0};
  float w[3] = {0, 0, 0};
};

struct ExtPlan {
  int64_t len = 0, n = 0, shift = 0;
  int64_t copy_begin = 0, copy_end = 0;
  std::vector<Recipe> recipes;
};

/// Extension plans of the drivers' three boundary situations.
/// Forward analysis extension of n samples giving M coefficients.
ExtPlan analysis_plan(int64_t n, int F, DwtMode mode, int64_t M);
/// Extension for the adjoint of synthesis: `stored` (<= the synthesis
/// output) samples of the cotangent, zero beyond, giving n coefficients.
ExtPlan adjoint_plan(int64_t stored, int64_t n, int F, bool per);
/// Circular extension of n samples for a filter of F taps dilated by `dil`.
ExtPlan circular_plan(int64_t n, int F, int64_t dil, int64_t shift);

// ---- lines -------------------------------------------------------------------------------

/// A batch of equally long lines inside a buffer: line l starts at
/// (l / group) * group_stride + (l % group) * lane and its samples are
/// `step` apart. Rows and 1-D signals have step 1 and are processed one line
/// at a time (vectorised along the line); columns have lane 1 and are
/// processed 16 side by side.
struct Lines {
  float* base = nullptr;
  int64_t count = 0, group = 1, lane = 0, group_stride = 0, step = 1;
  int64_t offset(int64_t l) const { return (l / group) * group_stride + (l % group) * lane; }
  bool rows() const { return step == 1; }
};

/// Rows of B row-major arrays of h rows (`rs` floats apart), `stride`
/// floats between arrays.
inline Lines rows_of(const float* p, int64_t b, int64_t h, int64_t rs, int64_t stride) {
  return {const_cast<float*>(p), b * h, h, rs, stride, 1};
}
/// Columns of B row-major arrays of w columns, rows `rs` floats apart.
inline Lines cols_of(const float* p, int64_t b, int64_t w, int64_t rs, int64_t stride) {
  return {const_cast<float*>(p), b * w, w, 1, stride, rs};
}
/// B signals `stride` floats apart.
inline Lines signals_of(const float* p, int64_t b, int64_t stride) { return {const_cast<float*>(p), b, b, stride, 0, 1}; }

/// Polyphase synthesis taps: y[2p + r] = Σ_t A_r[t] ã[p + t] + B_r[t] d̃[p + t]
/// where ã[i] = a[i + omin] (circular for periodization). Derived from
/// y[2o + k − shift] += rec[k] c[o] with shift F − 2 (PyWavelets keeps
/// indices F−2 … of the full convolution) or F/2 − 1 (periodization).
struct PolyTaps {
  int64_t omin = 0;
  int T = 0;
  std::vector<float> A0, A1, B0, B1;
};

PolyTaps poly_taps(const Wavelet& w, bool per);

/// One input line set -> two output line sets of M samples:
/// o[j] = Σ_k g[k] ext[step·j + dil·k].
void pass_split(const Lines& in, const ExtPlan& E, const float* g0, const float* g1, int F, int64_t step,
                int64_t dil, int64_t M, const Lines& out0, const Lines& out1);
/// (a, d) lines of n coefficients -> y lines of out_len (<= 2P) samples.
void pass_poly(const Lines& a, const Lines& d, int64_t n, const PolyTaps& t, bool per, int F, int64_t out_len,
               const Lines& y);
/// (a, d) lines of N samples -> y lines of N samples, dilated circular:
/// y[i] = Σ_k G1[k] ã[i + dil·k] + G2[k] d̃[i + dil·k].
void pass_dil(const Lines& a, const Lines& d, int64_t N, const ExtPlan& E, const float* G1, const float* G2, int F,
              int64_t dil, const Lines& y);

// ---- filters in float, once per call -------------------------------------------------------

struct Bank {
  int F = 0;
  std::vector<float> ana_lo, ana_hi;  ///< dec reversed: c[o] = Σ_k ana[k] ext[2o + k]
  std::vector<float> rec_lo, rec_hi;  ///< rec as is: the adjoint of synthesis
  std::vector<float> half_rec_lo, half_rec_hi;      ///< rec / 2: iswt adjoint
  std::vector<float> half_rrec_lo, half_rrec_hi;    ///< reversed rec / 2: iswt
};

Bank bank_of(const Wavelet& w);

}  // namespace trim::kernels::detail
