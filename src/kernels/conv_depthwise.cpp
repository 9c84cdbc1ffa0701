#include "conv_depthwise.hpp"

#include <algorithm>
#include <vector>

#include "trim/core/parallel.hpp"

namespace trim::kernels::depthwise {

namespace {

/// Output columns [a, b) whose input column ow·sw + iw0 lies in [0, w).
inline void valid_columns(const Geometry& g, int64_t iw0, int64_t& a, int64_t& b) {
  a = iw0 >= 0 ? 0 : (-iw0 + g.sw - 1) / g.sw;
  b = iw0 >= g.w ? 0 : std::min(g.wo, (g.w - 1 - iw0) / g.sw + 1);
  a = std::min(a, g.wo);
  b = std::max(a, b);
}

/// Per kernel column kj: the first input column it reads (iw0) and the output
/// columns [a, b) whose input lies inside the row. The same for every row
/// and plane, so computed once per call, not in the inner loops.
struct ColumnTaps {
  std::vector<int64_t> iw0, a, b;
  explicit ColumnTaps(const Geometry& g)
      : iw0(static_cast<size_t>(g.kw)), a(static_cast<size_t>(g.kw)), b(static_cast<size_t>(g.kw)) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const size_t k = static_cast<size_t>(kj);
      iw0[k] = kj * g.dw - g.pl;
      valid_columns(g, iw0[k], a[k], b[k]);
    }
  }
};

/// Calls fn(out row oh, input row ih, kernel row ki) for every pair of rows
/// that meet inside the input.
template <class Fn>
inline void for_each_row_pair(const Geometry& g, Fn fn) {
  for (int64_t oh = 0; oh < g.ho; ++oh)
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t ih = oh * g.sh + ki * g.dh - g.pt;
      if (ih >= 0 && ih < g.h) fn(oh, ih, ki);
    }
}

}  // namespace

void forward(const Geometry& g, const float* x, const float* weight, const float* bias, float* y) {
  if (blocked_fits(g)) {
    forward_blocked(g, x, weight, bias, y);
    return;
  }
  const int64_t cout = g.channels * g.mult, planes = g.n * cout, p = g.ho * g.wo, khw = g.kh * g.kw;
  const ColumnTaps taps(g);
  parallel_for(planes, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t e = plane / cout, o = plane % cout;
      const float* xc = x + (e * g.channels + o / g.mult) * g.h * g.w;
      const float* wo = weight + o * khw;
      float* yp = y + plane * p;
      std::fill(yp, yp + p, bias ? bias[o] : 0.0f);
      for_each_row_pair(g, [&](int64_t oh, int64_t ih, int64_t ki) {
        float* __restrict yr = yp + oh * g.wo;
        const float* __restrict xr = xc + ih * g.w;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const size_t k = static_cast<size_t>(kj);
          const float wv = wo[ki * g.kw + kj];
          const int64_t iw0 = taps.iw0[k], a = taps.a[k], b = taps.b[k];
          if (g.sw == 1)
            for (int64_t ow = a; ow < b; ++ow) yr[ow] += wv * xr[ow + iw0];
          else
            for (int64_t ow = a; ow < b; ++ow) yr[ow] += wv * xr[ow * g.sw + iw0];
        }
      });
    }
  });
}

void backward_input(const Geometry& g, const float* dy, const float* weight, float* dx, bool overwrite) {
  if (blocked_fits(g)) {
    backward_input_blocked(g, dy, weight, dx, overwrite);
    return;
  }
  const int64_t cout = g.channels * g.mult, planes = g.n * g.channels, p = g.ho * g.wo, khw = g.kh * g.kw;
  const ColumnTaps taps(g);
  parallel_for(planes, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t e = plane / g.channels, c = plane % g.channels;
      float* dxc = dx + plane * g.h * g.w;
      if (overwrite) std::fill(dxc, dxc + g.h * g.w, 0.0f);  // the taps below add
      for (int64_t m = 0; m < g.mult; ++m) {
        const int64_t o = c * g.mult + m;
        const float* dyp = dy + (e * cout + o) * p;
        const float* wo = weight + o * khw;
        for_each_row_pair(g, [&](int64_t oh, int64_t ih, int64_t ki) {
          const float* __restrict dyr = dyp + oh * g.wo;
          float* __restrict xr = dxc + ih * g.w;
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const size_t k = static_cast<size_t>(kj);
            const float wv = wo[ki * g.kw + kj];
            const int64_t iw0 = taps.iw0[k], a = taps.a[k], b = taps.b[k];
            if (g.sw == 1)
              for (int64_t ow = a; ow < b; ++ow) xr[ow + iw0] += wv * dyr[ow];
            else
              for (int64_t ow = a; ow < b; ++ow) xr[ow * g.sw + iw0] += wv * dyr[ow];
          }
        });
      }
    }
  });
}

void backward_weight(const Geometry& g, const float* x, const float* dy, float* dweight) {
  if (blocked_fits(g)) {
    backward_weight_blocked(g, x, dy, dweight);
    return;
  }
  const int64_t cout = g.channels * g.mult, p = g.ho * g.wo, khw = g.kh * g.kw;
  const ColumnTaps taps(g);
  // Output channels write disjoint kernels; each sums over the batch in order.
  parallel_for(cout, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      float* dwo = dweight + o * khw;
      for (int64_t e = 0; e < g.n; ++e) {
        const float* xc = x + (e * g.channels + o / g.mult) * g.h * g.w;
        const float* dyp = dy + (e * cout + o) * p;
        for_each_row_pair(g, [&](int64_t oh, int64_t ih, int64_t ki) {
          const float* dyr = dyp + oh * g.wo;
          const float* xr = xc + ih * g.w;
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const size_t k = static_cast<size_t>(kj);
            const int64_t iw0 = taps.iw0[k], a = taps.a[k], b = taps.b[k];
            float s = 0.0f;
            if (g.sw == 1)
              for (int64_t ow = a; ow < b; ++ow) s += dyr[ow] * xr[ow + iw0];
            else
              for (int64_t ow = a; ow < b; ++ow) s += dyr[ow] * xr[ow * g.sw + iw0];
            dwo[ki * g.kw + kj] += s;
          }
        });
      }
    }
  });
}

}  // namespace trim::kernels::depthwise
