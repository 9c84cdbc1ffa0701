#include "trim/kernels/resize.hpp"

#include <algorithm>
#include <cmath>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

/// Input indices and weights of every output index along one axis.
struct AxisTable {
  int64_t in = 0, out = 0, taps = 1;
  std::vector<int64_t> index;  // out · taps
  std::vector<float> weight;   // out · taps
  bool identity = false;
};

double source_coordinate(int64_t o, int64_t in, int64_t out, double scale, ResizeCoordinates m) {
  switch (m) {
    case ResizeCoordinates::half_pixel: return (o + 0.5) / scale - 0.5;
    case ResizeCoordinates::pytorch_half_pixel: return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
    case ResizeCoordinates::align_corners:
      return out > 1 ? static_cast<double>(o) * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
    case ResizeCoordinates::asymmetric: return o / scale;
    case ResizeCoordinates::tf_half_pixel_for_nn: return (o + 0.5) / scale;
  }
  return 0.0;
}

int64_t nearest_index(double x, ResizeNearest m) {
  switch (m) {
    case ResizeNearest::floor: return static_cast<int64_t>(std::floor(x));
    case ResizeNearest::ceil: return static_cast<int64_t>(std::ceil(x));
    case ResizeNearest::round_prefer_ceil: return static_cast<int64_t>(std::floor(x + 0.5));
    case ResizeNearest::round_prefer_floor: return static_cast<int64_t>(std::ceil(x - 0.5));
  }
  return 0;
}

double cubic_weight(double d, double a) {  // Keys' kernel at distance |d|
  d = std::fabs(d);
  if (d <= 1.0) return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
  if (d < 2.0) return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
  return 0.0;
}

AxisTable make_table(int64_t in, int64_t out, double scale, const ResizeConfig& c) {
  AxisTable t;
  t.in = in;
  t.out = out;
  t.taps = c.mode == ResizeMode::nearest ? 1 : c.mode == ResizeMode::linear ? 2 : 4;
  t.index.resize(static_cast<size_t>(out * t.taps));
  t.weight.resize(static_cast<size_t>(out * t.taps));
  const auto clamp = [&](int64_t i) { return std::min(std::max<int64_t>(i, 0), in - 1); };
  for (int64_t o = 0; o < out; ++o) {
    // Clamped far outside the input (a tiny scale from a file): the cast to an index stays defined.
    const double x = std::min(std::max(source_coordinate(o, in, out, scale, c.coordinates), -4.0),
                              static_cast<double>(in) + 4.0);
    int64_t* idx = &t.index[static_cast<size_t>(o * t.taps)];
    float* w = &t.weight[static_cast<size_t>(o * t.taps)];
    if (c.mode == ResizeMode::nearest) {
      idx[0] = clamp(nearest_index(x, c.nearest));
      w[0] = 1.0f;
    } else if (c.mode == ResizeMode::linear) {
      const double xc = std::min(std::max(x, 0.0), static_cast<double>(in - 1));
      const int64_t i0 = static_cast<int64_t>(std::floor(xc));
      const double f = xc - static_cast<double>(i0);
      idx[0] = clamp(i0);
      idx[1] = clamp(i0 + 1);
      w[0] = static_cast<float>(1.0 - f);
      w[1] = static_cast<float>(f);
    } else {
      const int64_t i0 = static_cast<int64_t>(std::floor(x));
      const double f = x - static_cast<double>(i0);
      for (int k = 0; k < 4; ++k) {
        idx[k] = clamp(i0 - 1 + k);
        w[k] = static_cast<float>(cubic_weight(f - (k - 1), c.cubic_a));
      }
    }
  }
  t.identity = in == out;  // every output index takes exactly its own input index
  {
    for (int64_t o = 0; o < out && t.identity; ++o) {
      double s = 0.0;
      for (int64_t k = 0; k < t.taps; ++k) {
        const size_t j = static_cast<size_t>(o * t.taps + k);
        if (t.index[j] == o) s += t.weight[j];
        else if (t.weight[j] != 0.0f) t.identity = false;
      }
      if (s != 1.0) t.identity = false;
    }
  }
  return t;
}

std::vector<AxisTable> tables(const Shape& x, const Shape& y, const ResizeConfig& c) {
  std::vector<AxisTable> ts;
  for (int a = 2; a < x.rank(); ++a) {
    const size_t k = static_cast<size_t>(a - 2);
    const double scale = k < c.scales.size() && c.scales[k] > 0.0
                             ? c.scales[k]
                             : static_cast<double>(y[a]) / static_cast<double>(x[a]);
    ts.push_back(make_table(x[a], y[a], scale, c));
  }
  return ts;
}

/// y[o, j, i] = Σ_t w[j, t] · x[o, index[j, t], i] over [outer, in|out, inner].
void apply(const AxisTable& t, const float* x, float* y, int64_t outer, int64_t inner) {
  parallel_for(outer, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const float* xo = x + o * t.in * inner;
      float* yo = y + o * t.out * inner;
      for (int64_t j = 0; j < t.out; ++j) {
        float* yr = yo + j * inner;
        std::fill(yr, yr + inner, 0.0f);
        for (int64_t k = 0; k < t.taps; ++k) {
          const size_t q = static_cast<size_t>(j * t.taps + k);
          const float w = t.weight[q];
          if (w == 0.0f) continue;
          const float* xr = xo + t.index[q] * inner;
          for (int64_t i = 0; i < inner; ++i) yr[i] += w * xr[i];
        }
      }
    }
  });
}

/// The adjoint of apply: dx[o, index[j, t], i] += w[j, t] · dy[o, j, i] (dx overwritten).
void apply_adjoint(const AxisTable& t, const float* dy, float* dx, int64_t outer, int64_t inner) {
  parallel_for(outer, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      float* xo = dx + o * t.in * inner;
      const float* yo = dy + o * t.out * inner;
      std::fill(xo, xo + t.in * inner, 0.0f);
      for (int64_t j = 0; j < t.out; ++j) {
        const float* yr = yo + j * inner;
        for (int64_t k = 0; k < t.taps; ++k) {
          const size_t q = static_cast<size_t>(j * t.taps + k);
          const float w = t.weight[q];
          if (w == 0.0f) continue;
          float* xr = xo + t.index[q] * inner;
          for (int64_t i = 0; i < inner; ++i) xr[i] += w * yr[i];
        }
      }
    }
  });
}

int64_t product(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int k = from; k < to; ++k) p *= s[k];
  return p;
}

}  // namespace

ResizeMode parse_resize_mode(const std::string& s) {
  if (s == "nearest") return ResizeMode::nearest;
  if (s == "linear" || s == "bilinear" || s == "trilinear") return ResizeMode::linear;
  if (s == "cubic" || s == "bicubic") return ResizeMode::cubic;
  throw ValueError("resize mode '" + s + "' is not one of nearest, linear, cubic");
}

ResizeCoordinates parse_resize_coordinates(const std::string& s) {
  if (s == "half_pixel") return ResizeCoordinates::half_pixel;
  if (s == "pytorch_half_pixel") return ResizeCoordinates::pytorch_half_pixel;
  if (s == "align_corners") return ResizeCoordinates::align_corners;
  if (s == "asymmetric") return ResizeCoordinates::asymmetric;
  if (s == "tf_half_pixel_for_nn") return ResizeCoordinates::tf_half_pixel_for_nn;
  throw ValueError("coordinate_transformation_mode '" + s +
                   "' is not one of half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn"
                   " (tf_crop_and_resize is not supported)");
}

ResizeNearest parse_resize_nearest(const std::string& s) {
  if (s == "round_prefer_floor") return ResizeNearest::round_prefer_floor;
  if (s == "round_prefer_ceil") return ResizeNearest::round_prefer_ceil;
  if (s == "floor") return ResizeNearest::floor;
  if (s == "ceil") return ResizeNearest::ceil;
  throw ValueError("nearest_mode '" + s + "' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
}

const char* resize_mode_name(ResizeMode m) {
  switch (m) {
    case ResizeMode::nearest: return "nearest";
    case ResizeMode::linear: return "linear";
    case ResizeMode::cubic: return "cubic";
  }
  return "?";
}

const char* resize_coordinates_name(ResizeCoordinates c) {
  switch (c) {
    case ResizeCoordinates::half_pixel: return "half_pixel";
    case ResizeCoordinates::pytorch_half_pixel: return "pytorch_half_pixel";
    case ResizeCoordinates::align_corners: return "align_corners";
    case ResizeCoordinates::asymmetric: return "asymmetric";
    case ResizeCoordinates::tf_half_pixel_for_nn: return "tf_half_pixel_for_nn";
  }
  return "?";
}

const char* resize_nearest_name(ResizeNearest n) {
  switch (n) {
    case ResizeNearest::round_prefer_floor: return "round_prefer_floor";
    case ResizeNearest::round_prefer_ceil: return "round_prefer_ceil";
    case ResizeNearest::floor: return "floor";
    case ResizeNearest::ceil: return "ceil";
  }
  return "?";
}

Shape resize_output_shape(const Shape& x, const ResizeConfig& c, const std::string& where) {
  if (x.rank() < 3)
    throw ShapeError(where + ": input " + x.str() + ", expected rank >= 3 [N,C,spatial...]");
  const size_t sd = static_cast<size_t>(x.rank() - 2);
  if ((!c.scales.empty() && c.scales.size() != sd) || (!c.sizes.empty() && c.sizes.size() != sd))
    throw ShapeError(where + ": " + std::to_string(c.scales.size()) + " scales / " + std::to_string(c.sizes.size()) +
                     " sizes for the " + std::to_string(sd) + " spatial axes of input " + x.str());
  if (c.scales.empty() && c.sizes.empty())
    throw ValueError(where + ": neither scales nor sizes are given");
  Shape y{x[0], x[1]};
  for (size_t k = 0; k < sd; ++k) {
    const int64_t in = x[static_cast<int>(k) + 2];
    if (in < 1) throw ShapeError(where + ": input " + x.str() + " has an empty spatial axis");
    int64_t o = k < c.sizes.size() ? c.sizes[k] : 0;
    if (o <= 0) {
      const double s = k < c.scales.size() ? c.scales[k] : 0.0;
      if (!(s > 0.0) || !std::isfinite(s) || s * static_cast<double>(in) > 1e9)
        throw ValueError(where + ": scale " + std::to_string(s) + " along spatial axis " + std::to_string(k) +
                         ", expected a positive finite value");
      // In float, as ONNX Runtime does: the float32 scale 1.4 times 5 gives 7 (PyTorch, with the
      // double 1.4, too), where double arithmetic on the float32 value gives 6.99999988.
      o = static_cast<int64_t>(std::floor(static_cast<float>(in) * static_cast<float>(s)));
    }
    if (o < 1 || o > (int64_t{1} << 31))
      throw ShapeError(where + ": output length " + std::to_string(o) + " along spatial axis " + std::to_string(k) +
                       " of input " + x.str());
    y.push_back(o);
  }
  return y;
}

void resize_forward(const Tensor& x, const ResizeConfig& c, Tensor& y) {
  const Shape ys = resize_output_shape(x.shape(), c, "resize");
  if (y.shape() != ys) throw ShapeError("resize: output " + y.shape().str() + ", expected " + ys.str());
  const std::vector<AxisTable> ts = tables(x.shape(), ys, c);
  Shape cur = x.shape();
  Tensor a = x, b;
  for (size_t k = 0; k < ts.size(); ++k) {
    if (ts[k].identity) continue;
    const int ax = static_cast<int>(k) + 2;
    Shape next = cur;
    next[ax] = ts[k].out;
    b.resize(next);
    apply(ts[k], a.data(), b.data(), product(cur, 0, ax), product(cur, ax + 1, cur.rank()));
    std::swap(a, b);
    cur = next;
  }
  std::copy(a.begin(), a.end(), y.begin());
}

void resize_backward(const ResizeConfig& c, const Tensor& dy, Tensor& dx) {
  const Shape ys = resize_output_shape(dx.shape(), c, "resize backward");
  if (dy.shape() != ys) throw ShapeError("resize backward: output gradient " + dy.shape().str() + ", expected " + ys.str());
  const std::vector<AxisTable> ts = tables(dx.shape(), ys, c);
  // Shapes after each forward pass, walked backwards.
  std::vector<Shape> after(ts.size() + 1);
  after[0] = dx.shape();
  for (size_t k = 0; k < ts.size(); ++k) {
    after[k + 1] = after[k];
    after[k + 1][static_cast<int>(k) + 2] = ts[k].out;
  }
  Tensor a = dy, b;
  for (size_t k = ts.size(); k-- > 0;) {
    if (ts[k].identity) continue;
    const int ax = static_cast<int>(k) + 2;
    b.resize(after[k]);
    apply_adjoint(ts[k], a.data(), b.data(), product(after[k], 0, ax), product(after[k], ax + 1, after[k].rank()));
    std::swap(a, b);
  }
  float* d = dx.data();
  for (int64_t i = 0; i < dx.numel(); ++i) d[i] += a[i];
}

}  // namespace trim::kernels
