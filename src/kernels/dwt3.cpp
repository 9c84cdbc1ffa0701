// 3-D multilevel wavelet transforms (`pywt.wavedecn` / `pywt.waverecn` on
// three axes) in the flattened layout: one level is a single-level 1-D
// transform along each axis in turn, each one a batch of lines through the
// 1-D flat kernels (wavedec_flat / waverec_flat / waverec_flat_adjoint with a
// one-level layout). Lines along axes 0 and 1 are gathered into contiguous
// rows first. The synthesis trims every level to that level's input size (as
// the 1-D and 2-D layouts do), so its transpose is exact.
//
// Sub-band keys follow PyWavelets: character i is 'a' or 'd' along axis i;
// key q (0..7) has bit 2 for axis 0, bit 1 for axis 1, bit 0 for axis 2
// ('aad' = 1, ..., 'ddd' = 7, itertools.product order).
#include <algorithm>
#include <array>
#include <vector>

#include "dwt3.hpp"
#include "trim/core/error.hpp"

namespace trim::kernels::detail {

namespace {

/// A single-level 1-D layout of lines of length n.
WaveletLayout line_layout(int64_t n, const Wavelet& w, DwtMode mode) {
  return wavelet_layout({n}, w, mode, 1, false, "dwt3");
}

/// Lines along the middle axis of x [outer, n, inner] into rows [outer·inner, n].
void gather(const float* x, int64_t outer, int64_t n, int64_t inner, float* rows) {
  if (inner == 1) {
    std::copy(x, x + outer * n, rows);
    return;
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j) {
      const float* src = x + (o * n + j) * inner;
      float* dst = rows + o * inner * n + j;
      for (int64_t i = 0; i < inner; ++i) dst[i * n] = src[i];
    }
}

/// The transpose of `gather`: rows [outer·inner, n] (starting at column
/// `first` of rows `stride` long) into x [outer, n, inner].
void scatter(const float* rows, int64_t stride, int64_t first, int64_t outer, int64_t n, int64_t inner, float* x) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* src = rows + (o * inner + i) * stride + first;
      float* dst = x + o * n * inner + i;
      for (int64_t j = 0; j < n; ++j) dst[j * inner] = src[j];
    }
}

/// Rows [lines, 2m] whose first m columns come from a and the last m from d,
/// both [outer, m, inner].
void gather_pair(const float* a, const float* d, int64_t outer, int64_t m, int64_t inner, float* rows) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      float* dst = rows + (o * inner + i) * 2 * m;
      for (int64_t j = 0; j < m; ++j) {
        dst[j] = a[(o * m + j) * inner + i];
        dst[m + j] = d[(o * m + j) * inner + i];
      }
    }
}

/// x [outer, n, inner] -> a, d [outer, m, inner] along the middle axis.
void analyse_axis(const float* x, int64_t outer, int64_t inner, const WaveletLayout& L1, const Wavelet& w, float* a,
                  float* d) {
  const int64_t n = L1.input()[0], m = L1.sizes[1][0], lines = outer * inner;
  std::vector<float> rows(static_cast<size_t>(lines * n)), c(static_cast<size_t>(lines * 2 * m));
  gather(x, outer, n, inner, rows.data());
  wavedec_flat(rows.data(), lines, L1, w, c.data());
  scatter(c.data(), 2 * m, 0, outer, m, inner, a);
  scatter(c.data(), 2 * m, m, outer, m, inner, d);
}

/// a, d [outer, m, inner] -> y [outer, n, inner] (trimmed to n).
void synthesise_axis(const float* a, const float* d, int64_t outer, int64_t inner, const WaveletLayout& L1,
                     const Wavelet& w, float* y) {
  const int64_t n = L1.input()[0], m = L1.sizes[1][0], lines = outer * inner;
  std::vector<float> c(static_cast<size_t>(lines * 2 * m)), rows(static_cast<size_t>(lines * n));
  gather_pair(a, d, outer, m, inner, c.data());
  waverec_flat(c.data(), lines, L1, w, rows.data());
  scatter(rows.data(), n, 0, outer, n, inner, y);
}

/// The transpose of synthesise_axis: gy [outer, n, inner] -> ga, gd.
void synthesise_axis_adjoint(const float* gy, int64_t outer, int64_t inner, const WaveletLayout& L1, const Wavelet& w,
                             float* ga, float* gd) {
  const int64_t n = L1.input()[0], m = L1.sizes[1][0], lines = outer * inner;
  std::vector<float> rows(static_cast<size_t>(lines * n)), c(static_cast<size_t>(lines * 2 * m));
  gather(gy, outer, n, inner, rows.data());
  waverec_flat_adjoint(rows.data(), lines, L1, w, c.data());
  scatter(c.data(), 2 * m, 0, outer, m, inner, ga);
  scatter(c.data(), 2 * m, m, outer, m, inner, gd);
}

using Volume = std::vector<float>;

/// Index of band (level k, key q ≥ 1) in the layout: cA_n, then 7 per level
/// from the coarsest.
size_t band_of(const WaveletLayout& L, int k, int q) { return 1 + static_cast<size_t>(L.level - k) * 7 + (q - 1); }

/// Copies a band of every signal between the flat coefficients and a
/// contiguous [B, band size] volume.
void band_copy(const WaveletLayout& L, const WaveletBand& b, int64_t B, float* c, float* v, bool to_flat) {
  for (int64_t s = 0; s < B; ++s) {
    float* f = c + s * L.size + b.offset;
    float* p = v + s * b.size;
    if (to_flat)
      std::copy(p, p + b.size, f);
    else
      std::copy(f, f + b.size, p);
  }
}

/// The three one-level 1-D layouts of level k (input sizes sizes[k − 1]).
std::array<WaveletLayout, 3> level_layouts(const WaveletLayout& L, int k, const Wavelet& w) {
  const std::vector<int64_t>& s = L.sizes[static_cast<size_t>(k) - 1];
  return {line_layout(s[0], w, L.mode), line_layout(s[1], w, L.mode), line_layout(s[2], w, L.mode)};
}

void check3(const WaveletLayout& L) {
  if (L.dims != 3 || L.stationary || L.sizes.size() != static_cast<size_t>(L.level) + 1 ||
      L.bands.size() != 1 + 7 * static_cast<size_t>(L.level))
    throw ValueError("dwt3: inconsistent wavelet layout");
}

/// Splits one line of samples into its low and high halves along one axis:
/// the analysis filters (wavedecn) or the adjoint of the synthesis ones.
using AxisSplit = void (*)(const float*, int64_t, int64_t, const WaveletLayout&, const Wavelet&, float*, float*);

/// The level loop both wavedec3_flat and the adjoint of waverec3_flat run:
/// per level, split axes 0, 1, 2 in turn (2, 4, then 8 parts), store the
/// seven detail parts in their bands and go on with the approximation.
void split_levels(const float* x, int64_t B, const WaveletLayout& L, const Wavelet& w, float* c, AxisSplit split) {
  check3(L);
  Volume cur(x, x + B * L.input_size());
  for (int k = 1; k <= L.level; ++k) {
    const auto L1 = level_layouts(L, k, w);
    const std::vector<int64_t>& s = L.sizes[static_cast<size_t>(k) - 1];
    const std::vector<int64_t>& m = L.sizes[static_cast<size_t>(k)];
    // Axis 0: [B, s0, s1·s2] -> 2 × [B, m0, s1, s2].
    std::array<Volume, 2> v0;
    for (Volume& v : v0) v.resize(static_cast<size_t>(B * m[0] * s[1] * s[2]));
    split(cur.data(), B, s[1] * s[2], L1[0], w, v0[0].data(), v0[1].data());
    // Axis 1: [B·m0, s1, s2] -> 4 × [B, m0, m1, s2].
    std::array<Volume, 4> v1;
    for (Volume& v : v1) v.resize(static_cast<size_t>(B * m[0] * m[1] * s[2]));
    for (int p = 0; p < 2; ++p) split(v0[p].data(), B * m[0], s[2], L1[1], w, v1[2 * p].data(), v1[2 * p + 1].data());
    // Axis 2: [B·m0·m1, s2] -> 8 × [B, m0, m1, m2].
    std::array<Volume, 8> v2;
    for (Volume& v : v2) v.resize(static_cast<size_t>(B * m[0] * m[1] * m[2]));
    for (int p = 0; p < 4; ++p)
      split(v1[p].data(), B * m[0] * m[1], 1, L1[2], w, v2[2 * p].data(), v2[2 * p + 1].data());
    for (int q = 1; q < 8; ++q) band_copy(L, L.bands[band_of(L, k, q)], B, c, v2[q].data(), true);
    cur = std::move(v2[0]);
  }
  band_copy(L, L.bands[0], B, c, cur.data(), true);
}

}  // namespace

void wavedec3_flat(const float* x, int64_t B, const WaveletLayout& L, const Wavelet& w, float* c) {
  split_levels(x, B, L, w, c, analyse_axis);
}

void waverec3_flat(const float* c, int64_t B, const WaveletLayout& L, const Wavelet& w, float* x) {
  check3(L);
  float* cc = const_cast<float*>(c);  // band_copy reads it only (to_flat = false)
  Volume cur(static_cast<size_t>(B * L.bands[0].size));
  band_copy(L, L.bands[0], B, cc, cur.data(), false);
  for (int k = L.level; k >= 1; --k) {
    const auto L1 = level_layouts(L, k, w);
    const std::vector<int64_t>& s = L.sizes[static_cast<size_t>(k) - 1];
    const std::vector<int64_t>& m = L.sizes[static_cast<size_t>(k)];
    std::array<Volume, 8> v2;
    v2[0] = std::move(cur);
    for (int q = 1; q < 8; ++q) {
      v2[q].resize(static_cast<size_t>(B * m[0] * m[1] * m[2]));
      band_copy(L, L.bands[band_of(L, k, q)], B, cc, v2[q].data(), false);
    }
    std::array<Volume, 4> v1;
    for (int p = 0; p < 4; ++p) {
      v1[p].resize(static_cast<size_t>(B * m[0] * m[1] * s[2]));
      synthesise_axis(v2[2 * p].data(), v2[2 * p + 1].data(), B * m[0] * m[1], 1, L1[2], w, v1[p].data());
    }
    std::array<Volume, 2> v0;
    for (int p = 0; p < 2; ++p) {
      v0[p].resize(static_cast<size_t>(B * m[0] * s[1] * s[2]));
      synthesise_axis(v1[2 * p].data(), v1[2 * p + 1].data(), B * m[0], s[2], L1[1], w, v0[p].data());
    }
    cur.assign(static_cast<size_t>(B * s[0] * s[1] * s[2]), 0.0f);
    synthesise_axis(v0[0].data(), v0[1].data(), B, s[1] * s[2], L1[0], w, cur.data());
  }
  std::copy(cur.begin(), cur.end(), x);
}

void waverec3_flat_adjoint(const float* gx, int64_t B, const WaveletLayout& L, const Wavelet& w, float* gc) {
  split_levels(gx, B, L, w, gc, synthesise_axis_adjoint);
}

}  // namespace trim::kernels::detail
