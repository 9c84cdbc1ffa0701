#include "trim/kernels/pool.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "deal.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace trim::kernels {

namespace {

/// Below this many multiply-adds a call runs on one thread.
constexpr int64_t parallel_work = int64_t{1} << 15;

std::string str(int64_t v) { return std::to_string(v); }

/// Everything the plane loops need, resolved once per call.
struct Geometry {
  int64_t planes = 0;
  int64_t ih = 1, iw = 1, oh = 1, ow = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  bool count_include_pad = true;
};

/// One window along one axis: real elements [begin, end) and the window's
/// length clipped to the padded input (PyTorch's count_include_pad divisor).
struct Range {
  int64_t begin, end, padded;
};

inline Range window(int64_t o, int64_t stride, int64_t kernel, int64_t pad_before, int64_t pad_after,
                    int64_t in) {
  const int64_t start = o * stride - pad_before;
  const int64_t stop = std::min(start + kernel, in + pad_after);
  return {std::max<int64_t>(start, 0), std::min(stop, in), stop - start};
}

int spatial_dims_of(const Tensor& x, const char* what) {
  if (x.rank() != 3 && x.rank() != 4)
    throw ShapeError(std::string(what) + ": input " + x.shape().str() +
                     ", expected [N,C,L] or [N,C,H,W]");
  return x.rank() - 2;
}

/// Validates the window for input shape `x` and output shape `y`.
Geometry geometry(const Shape& x, const PoolWindow& w, const Shape& y, const char* what) {
  const int dims = x.rank() - 2;
  const Shape expected = pool_output_shape(x, dims, w, what);
  if (y != expected)
    throw ShapeError(std::string(what) + ": output " + y.str() + ", expected " + expected.str() +
                     " for input " + x.str());
  Geometry g;
  g.planes = x[0] * x[1];
  g.ih = dims == 2 ? x[2] : 1;
  g.iw = x[x.rank() - 1];
  g.oh = dims == 2 ? y[2] : 1;
  g.ow = y[y.rank() - 1];
  g.kh = w.kernel[0];
  g.kw = w.kernel[1];
  g.sh = w.stride[0];
  g.sw = w.stride[1];
  g.pt = w.pads[0];
  g.pl = w.pads[1];
  g.pb = w.pads[2];
  g.pr = w.pads[3];
  g.count_include_pad = w.count_include_pad;
  return g;
}

/// Runs fn(plane_begin, plane_end) over all planes, over threads when the
/// call is big enough.
template <class Fn>
void for_planes(const Geometry& g, Fn&& fn) {
  const int64_t work = g.planes * g.oh * g.ow * g.kh * g.kw;
  if (g.planes > 1 && work >= parallel_work)
    parallel_for(g.planes, fn);
  else
    fn(0, g.planes);
}

/// Output columns [lo, hi) whose windows lie entirely inside the input's
/// width. Their loops run over output columns innermost with a fixed step
/// (vectorisable); the few border columns take the clipped path.
struct Columns {
  int64_t lo, hi;
};

Columns interior_columns(const Geometry& g) {
  const int64_t lo = std::min(g.ow, (g.pl + g.sw - 1) / g.sw);
  const int64_t last_start = g.iw + g.pl - g.kw;  // padded coordinates
  const int64_t hi = last_start < 0 ? 0 : std::min(g.ow, last_start / g.sw + 1);
  return {lo, std::max(lo, hi)};
}

/// Dispatches fn(std::integral_constant step) for strides 1 and 2 (compile
/// time, so the compiler can vectorise the strided loads) or 0 (runtime
/// stride g.sw).
template <class Fn>
void with_stride(int64_t sw, Fn&& fn) {
  if (sw == 1)
    fn(std::integral_constant<int64_t, 1>());
  else if (sw == 2)
    fn(std::integral_constant<int64_t, 2>());
  else
    fn(std::integral_constant<int64_t, 0>());
}

/// One output row of max pooling over plane `x`: val[ow] = window maximum,
/// and when Arg, arg[ow] = its offset within the plane (first maximum in
/// scan order; a NaN wins). Windows are never empty for a validated
/// geometry, so the first real element seeds each maximum and padding
/// never wins. Comparisons are branch-free: random data defeats prediction.
template <bool Arg, int64_t Step>
void max_row(const Geometry& g, const Columns& cols, const float* x, const Range& rh, float* val,
             int64_t* arg) {
  const int64_t sw = Step ? Step : g.sw;
  const auto clipped = [&](int64_t ow) {
    const Range rw = window(ow, sw, g.kw, g.pl, g.pr, g.iw);
    int64_t a = rh.begin * g.iw + rw.begin;
    float best = x[a];
    for (int64_t h = rh.begin; h < rh.end; ++h)
      for (int64_t w = rw.begin; w < rw.end; ++w) {
        const float v = x[h * g.iw + w];
        const bool take = (v > best) | (v != v);
        best = take ? v : best;
        a = take ? h * g.iw + w : a;
      }
    val[ow] = best;
    if (Arg) arg[ow] = a;
  };
  for (int64_t ow = 0; ow < cols.lo; ++ow) clipped(ow);
  for (int64_t ow = cols.hi; ow < g.ow; ++ow) clipped(ow);
  const int64_t n = cols.hi - cols.lo;
  if (n <= 0) return;
  float* v_out = val + cols.lo;
  int64_t* a_out = Arg ? arg + cols.lo : nullptr;
  // Offset of window element (h, j) of the first interior column.
  const auto offset = [&](int64_t h, int64_t j) { return h * g.iw + j + cols.lo * sw - g.pl; };
  {
    const int64_t o = offset(rh.begin, 0);
    for (int64_t k = 0; k < n; ++k) {
      v_out[k] = x[o + k * sw];
      if (Arg) a_out[k] = o + k * sw;
    }
  }
  // Stride 2: each input row's window span is dealt into its even and odd
  // columns first, so every tap below reads contiguous memory.
  thread_local std::vector<float> dealt;
  const int64_t span = (n - 1) * sw + g.kw, half = (span + 1) / 2;
  if (Step == 2) dealt.resize(static_cast<size_t>(2 * half));
  for (int64_t h = rh.begin; h < rh.end; ++h) {
    if (Step == 2) detail::deal_pairs(x + offset(h, 0), span, dealt.data(), dealt.data() + half);
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t o = offset(h, j);
      const float* src = Step == 2 ? dealt.data() + (j % 2) * half + j / 2 : x + o;
      const int64_t step = Step == 2 ? 1 : sw;
      for (int64_t k = 0; k < n; ++k) {
        const float v = src[k * step];
        const bool take = (v > v_out[k]) | (v != v);
        v_out[k] = take ? v : v_out[k];
        if (Arg) a_out[k] = take ? o + k * sw : a_out[k];
      }
    }
  }
}

/// Divisor of a window (count_include_pad or real elements only).
inline float divisor(const Geometry& g, const Range& rh, const Range& rw) {
  return static_cast<float>(g.count_include_pad ? rh.padded * rw.padded
                                                : (rh.end - rh.begin) * (rw.end - rw.begin));
}

/// One output row of average pooling: y[ow] = window sum / divisor.
template <int64_t Step>
void avg_row(const Geometry& g, const Columns& cols, const float* x, const Range& rh, float* y) {
  const int64_t sw = Step ? Step : g.sw;
  const auto clipped = [&](int64_t ow) {
    const Range rw = window(ow, sw, g.kw, g.pl, g.pr, g.iw);
    float sum = 0.0f;
    for (int64_t h = rh.begin; h < rh.end; ++h)
      for (int64_t w = rw.begin; w < rw.end; ++w) sum += x[h * g.iw + w];
    y[ow] = sum / divisor(g, rh, rw);
  };
  for (int64_t ow = 0; ow < cols.lo; ++ow) clipped(ow);
  for (int64_t ow = cols.hi; ow < g.ow; ++ow) clipped(ow);
  const int64_t n = cols.hi - cols.lo;
  if (n <= 0) return;
  float* out = y + cols.lo;
  for (int64_t k = 0; k < n; ++k) out[k] = 0.0f;
  for (int64_t h = rh.begin; h < rh.end; ++h)
    for (int64_t j = 0; j < g.kw; ++j) {
      const float* src = x + h * g.iw + j + cols.lo * sw - g.pl;
      for (int64_t k = 0; k < n; ++k) out[k] += src[k * sw];
    }
  const float count = divisor(g, rh, Range{0, g.kw, g.kw});
  for (int64_t k = 0; k < n; ++k) out[k] /= count;
}

/// dx row(s) += the share of one output row of dy (avg_row's adjoint).
template <int64_t Step>
void avg_row_backward(const Geometry& g, const Columns& cols, const float* dy, const Range& rh, float* dx) {
  const int64_t sw = Step ? Step : g.sw;
  const auto clipped = [&](int64_t ow) {
    const Range rw = window(ow, sw, g.kw, g.pl, g.pr, g.iw);
    const float share = dy[ow] / divisor(g, rh, rw);
    for (int64_t h = rh.begin; h < rh.end; ++h)
      for (int64_t w = rw.begin; w < rw.end; ++w) dx[h * g.iw + w] += share;
  };
  for (int64_t ow = 0; ow < cols.lo; ++ow) clipped(ow);
  for (int64_t ow = cols.hi; ow < g.ow; ++ow) clipped(ow);
  const int64_t n = cols.hi - cols.lo;
  if (n <= 0) return;
  const float count = divisor(g, rh, Range{0, g.kw, g.kw});
  const float* in = dy + cols.lo;
  for (int64_t h = rh.begin; h < rh.end; ++h)
    for (int64_t j = 0; j < g.kw; ++j) {
      float* dst = dx + h * g.iw + j + cols.lo * sw - g.pl;
      for (int64_t k = 0; k < n; ++k) dst[k * sw] += in[k] / count;
    }
}

/// The 2×2, stride-2, unpadded window (LeNet's and most CNNs' pooling) with
/// every window inside the input.
bool plain_2x2(const Geometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0 &&
         2 * g.oh <= g.ih && 2 * g.ow <= g.iw;
}

/// Max-pools one plane with plain 2×2 windows in a single pass over pairs of
/// input rows. Same scan order and NaN rule as max_row, so the values and
/// indices are identical; it only drops max_row's per-row setup, which
/// dominates on small planes (a 12-wide row costs more to set up than to scan).
/// arg[o] = offset of output o's maximum within the plane. Kept for planes
/// whose offsets do not fit 32 bits; max_plane_2x2_dealt is the fast path.
template <bool Arg>
void max_plane_2x2(const Geometry& g, const float* x, float* y, int64_t* arg) {
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    const int64_t row = 2 * oh * g.iw;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const int64_t first = row + 2 * ow;
      float best = x[first];
      int64_t at = first;
      for (const int64_t o : {first + 1, first + g.iw, first + g.iw + 1}) {
        const float v = x[o];
        const bool take = (v > best) | (v != v);
        best = take ? v : best;
        at = take ? o : at;
      }
      y[oh * g.ow + ow] = best;
      if (Arg) arg[oh * g.ow + ow] = at;
    }
  }
}

/// The 3×3, stride-2 window (ResNet's and most ImageNet stems' max pool;
/// validation limits its padding to 1 per side). Offsets within a plane
/// fit 32 bits, so they vectorise alongside the floats.
bool window_3x3_stride2(const Geometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 2 && g.sw == 2 &&
         g.ih * g.iw < int64_t{std::numeric_limits<int32_t>::max()};
}

/// Per-thread buffers of the 3×3 stride-2 path.
struct Scratch3x3 {
  std::vector<float> even, odd;   // the plane's even / odd columns, row by row
  std::vector<float> ve, vo;      // column maxima at a window row's even / odd columns
  std::vector<int32_t> ie, io;    // their offsets within the plane
};

/// A column maximum outside the input: loses to every real element, ties
/// and NaN included (its offset is larger than any real one).
constexpr float pad_value = -std::numeric_limits<float>::infinity();
constexpr int32_t pad_offset = std::numeric_limits<int32_t>::max();

/// dst[i] for i in [0, n) = the maximum over rows [h0, h1) of column
/// i − shift of `src` (rows of `len` dealt columns); columns outside
/// [0, len) are padding. When Arg, at[i] = the winner's offset within the
/// plane (dealt column c is input column 2c + parity). Rows are scanned in
/// order with max_row's rule, so each column keeps its first maximum (a
/// NaN wins, the last one if several).
template <bool Arg>
void column_max(const float* src, int64_t len, int64_t h0, int64_t h1, int64_t shift, int64_t n, int64_t iw,
                int64_t parity, float* __restrict dst, int32_t* __restrict at) {
  const int64_t lo = std::min(shift, n), hi = std::max(lo, std::min(n, len + shift));
  for (int64_t i = 0; i < lo; ++i) {
    dst[i] = pad_value;
    if (Arg) at[i] = pad_offset;
  }
  for (int64_t i = hi; i < n; ++i) {
    dst[i] = pad_value;
    if (Arg) at[i] = pad_offset;
  }
  const int64_t m = hi - lo, first = lo - shift;  // first dealt column read
  float* __restrict d = dst + lo;
  int32_t* __restrict a = Arg ? at + lo : nullptr;
  const float* r = src + h0 * len + first;
  const int32_t base0 = static_cast<int32_t>(h0 * iw + 2 * first + parity);
  for (int64_t k = 0; k < m; ++k) {
    d[k] = r[k];
    if (Arg) a[k] = base0 + 2 * static_cast<int32_t>(k);
  }
  for (int64_t h = h0 + 1; h < h1; ++h) {
    r = src + h * len + first;
    const int32_t base = static_cast<int32_t>(h * iw + 2 * first + parity);
    for (int64_t k = 0; k < m; ++k) {
      const float v = r[k];
      const bool take = (v > d[k]) | (v != v);
      d[k] = take ? v : d[k];
      if (Arg) a[k] = take ? base + 2 * static_cast<int32_t>(k) : a[k];
    }
  }
}

/// Max-pools one plane with 3×3 stride-2 windows: the plane's columns are
/// dealt into even and odd halves once, each output row takes the maxima of
/// its window rows column by column (contiguous, vectorised), then three
/// neighbouring column maxima per output. The winner of a window is the
/// one max_row picks (first maximum in scan order, i.e. smallest offset;
/// the NaN with the largest offset if any), so values and offsets are
/// identical; without Arg only the values are, and a window holding several
/// NaNs may return another of them. arg[o] = the offset within the plane.
template <bool Arg>
void max_plane_3x3s2(const Geometry& g, const float* x, Scratch3x3& s, float* __restrict y,
                     int32_t* __restrict arg) {
  const int64_t ne = (g.iw + 1) / 2, no = g.iw / 2;
  s.even.resize(static_cast<size_t>(g.ih * ne));
  s.odd.resize(static_cast<size_t>(std::max<int64_t>(1, g.ih * no)));
  for (int64_t h = 0; h < g.ih; ++h) detail::deal_pairs(x + h * g.iw, g.iw, s.even.data() + h * ne, s.odd.data() + h * no);
  // Window columns 2·ow − pl + {0, 1, 2} are ve[ow], vo[ow], ve[ow + 1].
  const int64_t n = g.ow;
  s.ve.resize(static_cast<size_t>(n + 1));
  s.vo.resize(static_cast<size_t>(n));
  if (Arg) {
    s.ie.resize(static_cast<size_t>(n + 1));
    s.io.resize(static_cast<size_t>(n));
  }
  const bool left = g.pl > 0;  // then ve[i] is input column 2i − 1 (odd), vo[i] column 2i
  const float* src_e = left ? s.odd.data() : s.even.data();
  const float* src_o = left ? s.even.data() : s.odd.data();
  const int64_t len_e = left ? no : ne, len_o = left ? ne : no;
  float* __restrict ve = s.ve.data();
  float* __restrict vo = s.vo.data();
  int32_t* __restrict ie = Arg ? s.ie.data() : nullptr;
  int32_t* __restrict io = Arg ? s.io.data() : nullptr;
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    const Range rh = window(oh, 2, 3, g.pt, g.pb, g.ih);
    column_max<Arg>(src_e, len_e, rh.begin, rh.end, left ? 1 : 0, n + 1, g.iw, left ? 1 : 0, ve, ie);
    column_max<Arg>(src_o, len_o, rh.begin, rh.end, 0, n, g.iw, left ? 0 : 1, vo, io);
    float* __restrict yr = y + oh * n;
    int32_t* __restrict ar = Arg ? arg + oh * n : nullptr;
    if (!Arg) {
      for (int64_t k = 0; k < n; ++k) {
        float best = ve[k];
        for (const float v : {vo[k], ve[k + 1]}) best = ((v > best) | (v != v)) ? v : best;
        yr[k] = best;
      }
      continue;
    }
    // Column maxima come in no particular offset order: a tie goes to the
    // smaller offset, a NaN beats a number and a NaN of smaller offset.
    int64_t k = 0;
#if defined(__AVX512F__)
    for (; k < n; k += 16) {
      const __mmask16 live = n - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - k)) - 1);
      __m512 best = _mm512_maskz_loadu_ps(live, ve + k);
      __m512i at = _mm512_maskz_loadu_epi32(live, ie + k);
      const auto combine = [&](const float* pv, const int32_t* po) {
        const __m512 v = _mm512_maskz_loadu_ps(live, pv);
        const __m512i o = _mm512_maskz_loadu_epi32(live, po);
        const __mmask16 vn = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        const __mmask16 bn = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
        const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                               (_mm512_cmp_ps_mask(v, best, _CMP_EQ_OQ) & _mm512_cmplt_epi32_mask(o, at)) |
                               (vn & (__mmask16(~bn) | _mm512_cmpgt_epi32_mask(o, at)));
        best = _mm512_mask_mov_ps(best, take, v);
        at = _mm512_mask_mov_epi32(at, take, o);
      };
      combine(vo + k, io + k);
      combine(ve + k + 1, ie + k + 1);
      _mm512_mask_storeu_ps(yr + k, live, best);
      _mm512_mask_storeu_epi32(ar + k, live, at);
    }
#endif
    for (; k < n; ++k) {
      float best = ve[k];
      int32_t at = ie[k];
      const auto combine = [&](float v, int32_t o) {
        const bool vn = v != v, bn = best != best;
        const bool take = (v > best) | ((v == best) & (o < at)) | (vn & (!bn | (o > at)));
        best = take ? v : best;
        at = take ? o : at;
      };
      combine(vo[k], io[k]);
      combine(ve[k + 1], ie[k + 1]);
      yr[k] = best;
      ar[k] = at;
    }
  }
}

/// max_plane_2x2 on the plane's columns dealt into even and odd halves (the
/// whole plane in one pass when its width is even, so small planes cost no
/// per-row setup), so the four taps of a window read contiguous memory and
/// vectorise: the same scan order and rule, hence the same values and (when
/// Arg, 32-bit) offsets.
template <bool Arg>
void max_plane_2x2_dealt(const Geometry& g, const float* x, Scratch3x3& s, float* __restrict y,
                         int32_t* __restrict arg) {
  const int64_t ne = (g.iw + 1) / 2, n = g.ow, rows = 2 * g.oh;
  s.even.resize(static_cast<size_t>(rows * ne));
  s.odd.resize(static_cast<size_t>(rows * ne));
  if (g.iw % 2 == 0) {
    detail::deal_pairs(x, rows * g.iw, s.even.data(), s.odd.data());
  } else {
    for (int64_t r = 0; r < rows; ++r)
      detail::deal_pairs(x + r * g.iw, g.iw, s.even.data() + r * ne, s.odd.data() + r * ne);
  }
  for (int64_t oh = 0; oh < g.oh; ++oh) {
    const float* __restrict e0 = s.even.data() + 2 * oh * ne;
    const float* __restrict o0 = s.odd.data() + 2 * oh * ne;
    const float* __restrict e1 = e0 + ne;
    const float* __restrict o1 = o0 + ne;
    const int32_t r0 = static_cast<int32_t>(2 * oh * g.iw), r1 = static_cast<int32_t>((2 * oh + 1) * g.iw);
    float* __restrict yr = y + oh * n;
    int32_t* __restrict ar = Arg ? arg + oh * n : nullptr;
    int64_t k = 0;
#if defined(__AVX512F__)
    const __m512i lanes2 = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (; k < n; k += 16) {
      const __mmask16 live = n - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - k)) - 1);
      __m512 best = _mm512_maskz_loadu_ps(live, e0 + k);
      const __m512i c = _mm512_add_epi32(_mm512_set1_epi32(2 * static_cast<int32_t>(k)), lanes2);
      __m512i at = _mm512_add_epi32(c, _mm512_set1_epi32(r0));
      const auto tap = [&](const float* src, int32_t offset) {
        const __m512 v = _mm512_maskz_loadu_ps(live, src + k);
        const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, take, v);
        if (Arg) at = _mm512_mask_mov_epi32(at, take, _mm512_add_epi32(c, _mm512_set1_epi32(offset)));
      };
      tap(o0, r0 + 1);
      tap(e1, r1);
      tap(o1, r1 + 1);
      _mm512_mask_storeu_ps(yr + k, live, best);
      if (Arg) _mm512_mask_storeu_epi32(ar + k, live, at);
    }
#endif
    for (; k < n; ++k) {
      const int32_t c = 2 * static_cast<int32_t>(k);
      float best = e0[k];
      int32_t at = r0 + c;
      const auto tap = [&](float v, int32_t o) {
        const bool take = (v > best) | (v != v);
        best = take ? v : best;
        at = take ? o : at;
      };
      tap(o0[k], r0 + c + 1);
      tap(e1[k], r1 + c);
      tap(o1[k], r1 + c + 1);
      yr[k] = best;
      if (Arg) ar[k] = at;
    }
  }
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, bool ceil_mode) {
  const int64_t span = in + pad_before + pad_after - kernel;
  if (span < 0 || stride < 1) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: in ceil mode the last window must start inside the input or the
  // left padding, never in the right padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
  return out;
}

Shape pool_output_shape(const Shape& x, int dims, const PoolWindow& w, const std::string& where) {
  if (dims != 1 && dims != 2)
    throw ValueError(where + ": pooling over " + str(dims) + " spatial axes, expected 1 or 2");
  const bool one = dims == 1;
  if (x.rank() != dims + 2)
    throw ShapeError(where + ": input " + x.str() + ", expected " + (one ? "[N,C,L]" : "[N,C,H,W]"));
  const auto pair = [one](const std::array<int64_t, 2>& a) {
    return one ? str(a[1]) : "[" + str(a[0]) + "," + str(a[1]) + "]";
  };
  // Messages are built only when thrown: kernels validate on every call.
  const auto pads = [&] {
    return one ? "{left,right} = {" + str(w.pads[1]) + "," + str(w.pads[3]) + "}"
               : "{top,left,bottom,right} = {" + str(w.pads[0]) + "," + str(w.pads[1]) + "," +
                     str(w.pads[2]) + "," + str(w.pads[3]) + "}";
  };
  if (one && (w.kernel[0] != 1 || w.stride[0] != 1 || w.pads[0] != 0 || w.pads[2] != 0))
    throw ValueError(where + ": a 1d window needs height 1, stride 1 and no top/bottom padding, got kernel [" +
                     str(w.kernel[0]) + "," + str(w.kernel[1]) + "], stride [" + str(w.stride[0]) + "," +
                     str(w.stride[1]) + "]");
  if (w.kernel[0] < 1 || w.kernel[1] < 1)
    throw ValueError(where + ": kernel size " + pair(w.kernel) + ", expected positive");
  if (w.stride[0] < 1 || w.stride[1] < 1)
    throw ValueError(where + ": stride " + pair(w.stride) + ", expected positive");
  for (int i = 0; i < 4; ++i) {
    if (w.pads[static_cast<size_t>(i)] < 0)
      throw ValueError(where + ": padding " + pads() + ", expected non-negative");
    const int64_t k = w.kernel[static_cast<size_t>(i % 2)];
    if (w.pads[static_cast<size_t>(i)] > k / 2)
      throw ValueError(where + ": padding " + pads() + " is more than half the kernel size " + pair(w.kernel) +
                       " (PyTorch's limit: pad <= kernel / 2)");
  }
  Shape y = x;
  std::array<int64_t, 2> padded{1, 1};
  bool too_small = false;
  for (int a = 2 - dims; a < 2; ++a) {
    const int axis = a + dims;  // axis of x
    const auto ua = static_cast<size_t>(a);
    const int64_t in = x[axis];
    if (in == Shape::free || in < 1)
      throw ShapeError(where + ": input " + x.str() + " has an empty spatial axis");
    const int64_t full = in + w.pads[ua] + w.pads[ua + 2];
    padded[ua] = full;
    too_small = too_small || full < w.kernel[ua];
    y[axis] = pool_output_size(in, w.kernel[ua], w.stride[ua], w.pads[ua], w.pads[ua + 2], w.ceil_mode);
  }
  if (too_small)
    throw ShapeError(where + ": input " + x.str() + " padded to " + pair(padded) + " is smaller than the kernel " +
                     pair(w.kernel));
  return y;
}

void max_pool_forward(const Tensor& x, const PoolWindow& w, Tensor& y, int64_t* indices) {
  spatial_dims_of(x, "max_pool");
  const Geometry g = geometry(x.shape(), w, y.shape(), "max_pool");
  const Columns cols = interior_columns(g);
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
  const float* xd = x.data();
  float* yd = y.data();
  const bool fits_int32 = in_plane < int64_t{std::numeric_limits<int32_t>::max()};
  if (plain_2x2(g)) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      Scratch3x3 s;
      std::vector<int32_t> arg(indices ? static_cast<size_t>(out_plane) : 0);
      for (int64_t p = begin; p < end; ++p) {
        if (!indices) {
          max_plane_2x2_dealt<false>(g, xd + p * in_plane, s, yd + p * out_plane, nullptr);
          continue;
        }
        int64_t* ip = indices + p * out_plane;
        if (!fits_int32) {
          max_plane_2x2<true>(g, xd + p * in_plane, yd + p * out_plane, ip);
          for (int64_t k = 0; k < out_plane; ++k) ip[k] += p * in_plane;
          continue;
        }
        max_plane_2x2_dealt<true>(g, xd + p * in_plane, s, yd + p * out_plane, arg.data());
        for (int64_t k = 0; k < out_plane; ++k) ip[k] = p * in_plane + arg[static_cast<size_t>(k)];
      }
    });
    return;
  }
  if (window_3x3_stride2(g)) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      Scratch3x3 s;
      std::vector<int32_t> arg(indices ? static_cast<size_t>(out_plane) : 0);
      for (int64_t p = begin; p < end; ++p) {
        if (!indices) {
          max_plane_3x3s2<false>(g, xd + p * in_plane, s, yd + p * out_plane, nullptr);
          continue;
        }
        max_plane_3x3s2<true>(g, xd + p * in_plane, s, yd + p * out_plane, arg.data());
        int64_t* ip = indices + p * out_plane;
        for (int64_t k = 0; k < out_plane; ++k) ip[k] = p * in_plane + arg[static_cast<size_t>(k)];
      }
    });
    return;
  }
  with_stride(g.sw, [&](auto step) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p)
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const Range rh = window(oh, g.sh, g.kh, g.pt, g.pb, g.ih);
          float* yr = yd + p * out_plane + oh * g.ow;
          if (!indices) {
            max_row<false, decltype(step)::value>(g, cols, xd + p * in_plane, rh, yr, nullptr);
            continue;
          }
          int64_t* ir = indices + p * out_plane + oh * g.ow;
          max_row<true, decltype(step)::value>(g, cols, xd + p * in_plane, rh, yr, ir);
          for (int64_t k = 0; k < g.ow; ++k) ir[k] += p * in_plane;
        }
    });
  });
}

/// dx (zeroed plane by plane first when `overwrite`) += dy scattered to each
/// window's winner, for the whole-plane kernels: winners(x plane, scratch,
/// maxima, offsets) finds a plane's winners at Index offsets.
template <class Index, class Winners>
void scatter_to_winners(const Geometry& g, const float* xd, const float* dyd, float* dxd, bool overwrite,
                        const Winners& winners) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
  for_planes(g, [&](int64_t begin, int64_t end) {
    Scratch3x3 s;
    std::vector<float> val(static_cast<size_t>(out_plane));
    std::vector<Index> arg(static_cast<size_t>(out_plane));
    for (int64_t p = begin; p < end; ++p) {
      winners(xd + p * in_plane, s, val.data(), arg.data());
      const float* dyp = dyd + p * out_plane;
      float* dxp = dxd + p * in_plane;
      if (overwrite) std::fill(dxp, dxp + in_plane, 0.0f);  // while the plane is in cache
      for (int64_t k = 0; k < out_plane; ++k) dxp[arg[static_cast<size_t>(k)]] += dyp[k];
    }
  });
}

void max_pool_backward(const Tensor& x, const PoolWindow& w, const Tensor& dy, Tensor& dx, bool overwrite) {
  spatial_dims_of(x, "max_pool backward");
  if (dx.shape() != x.shape())
    throw ShapeError("max_pool backward: gradient " + dx.shape().str() + ", expected " + x.shape().str());
  const Geometry g = geometry(x.shape(), w, dy.shape(), "max_pool backward");
  const Columns cols = interior_columns(g);
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
  const float* xd = x.data();
  const float* dyd = dy.data();
  float* dxd = dx.data();
  if (plain_2x2(g) && in_plane < int64_t{std::numeric_limits<int32_t>::max()}) {
    scatter_to_winners<int32_t>(g, xd, dyd, dxd, overwrite, [&](const float* xp, Scratch3x3& s, float* v, int32_t* a) {
      max_plane_2x2_dealt<true>(g, xp, s, v, a);
    });
    return;
  }
  if (plain_2x2(g)) {
    scatter_to_winners<int64_t>(g, xd, dyd, dxd, overwrite, [&](const float* xp, Scratch3x3&, float* v, int64_t* a) {
      max_plane_2x2<true>(g, xp, v, a);
    });
    return;
  }
  if (window_3x3_stride2(g)) {
    scatter_to_winners<int32_t>(g, xd, dyd, dxd, overwrite, [&](const float* xp, Scratch3x3& s, float* v, int32_t* a) {
      max_plane_3x3s2<true>(g, xp, s, v, a);
    });
    return;
  }
  with_stride(g.sw, [&](auto step) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      std::vector<float> val(static_cast<size_t>(g.ow));
      std::vector<int64_t> arg(static_cast<size_t>(g.ow));
      for (int64_t p = begin; p < end; ++p)
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const Range rh = window(oh, g.sh, g.kh, g.pt, g.pb, g.ih);
          max_row<true, decltype(step)::value>(g, cols, xd + p * in_plane, rh, val.data(), arg.data());
          const float* dyr = dyd + p * out_plane + oh * g.ow;
          float* dxp = dxd + p * in_plane;
          if (overwrite && oh == 0) std::fill(dxp, dxp + in_plane, 0.0f);
          for (int64_t k = 0; k < g.ow; ++k) dxp[arg[static_cast<size_t>(k)]] += dyr[k];
        }
    });
  });
}

void avg_pool_forward(const Tensor& x, const PoolWindow& w, Tensor& y) {
  spatial_dims_of(x, "avg_pool");
  const Geometry g = geometry(x.shape(), w, y.shape(), "avg_pool");
  const Columns cols = interior_columns(g);
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
  const float* xd = x.data();
  float* yd = y.data();
  with_stride(g.sw, [&](auto step) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p)
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const Range rh = window(oh, g.sh, g.kh, g.pt, g.pb, g.ih);
          avg_row<decltype(step)::value>(g, cols, xd + p * in_plane, rh, yd + p * out_plane + oh * g.ow);
        }
    });
  });
}

void avg_pool_backward(const PoolWindow& w, const Tensor& dy, Tensor& dx) {
  spatial_dims_of(dx, "avg_pool backward");
  const Geometry g = geometry(dx.shape(), w, dy.shape(), "avg_pool backward");
  const Columns cols = interior_columns(g);
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
  const float* dyd = dy.data();
  float* dxd = dx.data();
  with_stride(g.sw, [&](auto step) {
    for_planes(g, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p)
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const Range rh = window(oh, g.sh, g.kh, g.pt, g.pb, g.ih);
          avg_row_backward<decltype(step)::value>(g, cols, dyd + p * out_plane + oh * g.ow, rh, dxd + p * in_plane);
        }
    });
  });
}

namespace {
/// Rows (N·C planes) and columns (elements per plane) of a global pool.
void plane_dims(const Shape& x, int64_t& planes, int64_t& size, const char* what) {
  if (x.rank() < 2)
    throw ShapeError(std::string(what) + ": input " + x.str() + ", expected rank >= 2 ([N,C,...])");
  planes = x[0] * x[1];
  size = x.numel(2, x.rank());
}

template <class Fn>
void for_rows(int64_t rows, int64_t work, Fn&& fn) {
  if (rows > 1 && work >= parallel_work)
    parallel_for(rows, fn);
  else
    fn(0, rows);
}
}  // namespace

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  int64_t planes = 0, size = 0;
  plane_dims(x.shape(), planes, size, "global_avg_pool");
  if (y.numel() != planes)
    throw ShapeError("global_avg_pool: output " + y.shape().str() + " for input " + x.shape().str() +
                     ", expected N·C = " + str(planes) + " elements");
  if (size == 0) {
    y.set_zero();
    return;
  }
  const float* xd = x.data();
  float* yd = y.data();
  const float inv = 1.0f / static_cast<float>(size);
  for_rows(planes, planes * size, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      yd[p] = Eigen::Map<const Eigen::VectorXf>(xd + p * size, size).sum() * inv;
  });
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  int64_t planes = 0, size = 0;
  plane_dims(dx.shape(), planes, size, "global_avg_pool backward");
  if (dy.numel() != planes)
    throw ShapeError("global_avg_pool backward: gradient " + dy.shape().str() + " for input " +
                     dx.shape().str() + ", expected N·C = " + str(planes) + " elements");
  if (size == 0) return;
  const float* dyd = dy.data();
  float* dxd = dx.data();
  const float inv = 1.0f / static_cast<float>(size);
  for_rows(planes, planes * size, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      Eigen::Map<Eigen::VectorXf>(dxd + p * size, size).array() += dyd[p] * inv;
  });
}

}  // namespace trim::kernels
