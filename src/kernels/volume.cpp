#include "trim/kernels/volume.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/kernels/conv.hpp"
#include "trim/kernels/pool.hpp"

namespace trim::kernels {

namespace {

std::string str(int64_t v) { return std::to_string(v); }
template <size_t K>
std::string list(const std::array<int64_t, K>& a) {
  std::string s = "[";
  for (size_t i = 0; i < K; ++i) s += (i ? "," : "") + str(a[i]);
  return s + "]";
}

void require_shape(const Tensor& t, const Shape& expected, const std::string& where, const char* what) {
  if (t.shape() != expected)
    throw ShapeError(where + ": " + what + " " + t.shape().str() + ", expected " + expected.str());
}

// ---- conv3d as a batched conv2d over depth slabs ------------------------------------

/// The 2-D convolution of the slabs: height and width entries of the 3-D one.
Conv2dConfig slab_config(const Conv3dConfig& c) {
  return {{c.stride[1], c.stride[2]}, {c.pads[1], c.pads[2], c.pads[4], c.pads[5]}, {c.dilation[1], c.dilation[2]},
          c.groups};
}

struct Slabs {
  int64_t n, cin, d, h, w, kd, dout;
  int64_t sd, pd, dd;
  Shape slab_shape() const { return {n * dout, cin * kd, h, w}; }
  /// Input depth of slab channel (c, a) for output depth od, or −1 in the padding.
  int64_t depth(int64_t od, int64_t a) const {
    const int64_t z = od * sd - pd + a * dd;
    return z >= 0 && z < d ? z : -1;
  }
};

Slabs slabs_of(const Shape& x, const Shape& weight, const Shape& y, const Conv3dConfig& c) {
  return {x[0], x[1], x[2], x[3], x[4], weight[2], y[2], c.stride[0], c.pads[0], c.dilation[0]};
}

/// X2[n·D_out + od, c·kd + a] = x[n, c, depth(od, a)] (zero in the padding).
void gather_slabs(const Slabs& s, const float* x, float* x2) {
  const int64_t plane = s.h * s.w;
  parallel_for(s.n * s.dout, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n = b / s.dout, od = b % s.dout;
      for (int64_t c = 0; c < s.cin; ++c)
        for (int64_t a = 0; a < s.kd; ++a) {
          float* dst = x2 + ((b * s.cin + c) * s.kd + a) * plane;
          const int64_t z = s.depth(od, a);
          if (z < 0) std::fill(dst, dst + plane, 0.0f);
          else std::copy_n(x + ((n * s.cin + c) * s.d + z) * plane, plane, dst);
        }
    }
  });
}

/// dx[n, c, depth(od, a)] += dX2[n·D_out + od, c·kd + a]. Slabs of one example
/// overlap in depth, so examples (not slabs) run in parallel.
void scatter_slabs(const Slabs& s, const float* dx2, float* dx) {
  const int64_t plane = s.h * s.w;
  parallel_for(s.n, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t od = 0; od < s.dout; ++od)
        for (int64_t c = 0; c < s.cin; ++c)
          for (int64_t a = 0; a < s.kd; ++a) {
            const int64_t z = s.depth(od, a);
            if (z < 0) continue;
            const float* src = dx2 + (((n * s.dout + od) * s.cin + c) * s.kd + a) * plane;
            float* dst = dx + ((n * s.cin + c) * s.d + z) * plane;
            for (int64_t i = 0; i < plane; ++i) dst[i] += src[i];
          }
  });
}

/// [N·D_out, C_out, H_out, W_out] <-> [N, C_out, D_out, H_out, W_out].
void slabs_to_volume(const Tensor& y2, int64_t n, int64_t cout, int64_t dout, Tensor& y) {
  const int64_t plane = y2.dim(2) * y2.dim(3);
  for (int64_t b = 0; b < n * dout; ++b)
    for (int64_t o = 0; o < cout; ++o)
      std::copy_n(y2.data() + (b * cout + o) * plane, plane,
                  y.data() + (((b / dout) * cout + o) * dout + b % dout) * plane);
}

void volume_to_slabs(const Tensor& y, int64_t n, int64_t cout, int64_t dout, Tensor& y2) {
  const int64_t plane = y.dim(3) * y.dim(4);
  for (int64_t b = 0; b < n * dout; ++b)
    for (int64_t o = 0; o < cout; ++o)
      std::copy_n(y.data() + (((b / dout) * cout + o) * dout + b % dout) * plane, plane,
                  y2.data() + (b * cout + o) * plane);
}

Shape weight2d(const Shape& w) { return {w[0], w[1] * w[2], w[3], w[4]}; }

}  // namespace

void validate(const Conv3dConfig& c, const std::string& where) {
  for (size_t i = 0; i < 3; ++i) {
    if (c.stride[i] < 1) throw ValueError(where + ": stride " + list(c.stride) + ", expected >= 1");
    if (c.dilation[i] < 1) throw ValueError(where + ": dilation " + list(c.dilation) + ", expected >= 1");
  }
  for (int64_t p : c.pads)
    if (p < 0) throw ValueError(where + ": pads " + list(c.pads) + ", expected >= 0");
  if (c.groups < 1) throw ValueError(where + ": groups " + str(c.groups) + ", expected >= 1");
}

Shape conv3d_output_shape(const Shape& x, const Shape& w, const Conv3dConfig& c, const std::string& where) {
  validate(c, where);
  if (x.rank() != 5) throw ShapeError(where + ": input " + x.str() + ", expected rank 5 [N,C_in,D,H,W]");
  if (w.rank() != 5) throw ShapeError(where + ": weight " + w.str() + ", expected rank 5 [C_out,C_in/groups,kd,kh,kw]");
  for (int i = 0; i < 5; ++i)
    if (w[i] < 1) throw ShapeError(where + ": weight " + w.str() + " has an empty dimension");
  for (int i = 1; i < 5; ++i)
    if (x[i] < 1) throw ShapeError(where + ": input " + x.str() + ", expected positive channel and spatial sizes");
  if (w[0] % c.groups != 0)
    throw ShapeError(where + ": weight " + w.str() + " has " + str(w[0]) + " output channels, not divisible by groups " +
                     str(c.groups));
  if (x[1] != w[1] * c.groups)
    throw ShapeError(where + ": input " + x.str() + ", expected [*," + str(w[1] * c.groups) + ",D,H,W] (weight " +
                     w.str() + ", groups " + str(c.groups) + ")");
  Shape y{x[0], w[0]};
  for (size_t i = 0; i < 3; ++i) {
    const int64_t o = conv_output_size(x[static_cast<int>(i) + 2], w[static_cast<int>(i) + 2], c.stride[i], c.pads[i],
                                       c.pads[i + 3], c.dilation[i]);
    if (o < 1)
      throw ShapeError(where + ": kernel " + w.str() + " (dilation " + list(c.dilation) +
                       ") is larger than the padded input " + x.str() + " (pads " + list(c.pads) + ")");
    y.push_back(o);
  }
  return y;
}

void conv3d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv3dConfig& c, Tensor& y) {
  const std::string where = "conv3d";
  const Shape ys = conv3d_output_shape(x.shape(), weight.shape(), c, where);
  require_shape(y, ys, where, "output");
  if (bias && bias->shape() != Shape{ys[1]})
    throw ShapeError(where + ": bias " + bias->shape().str() + ", expected [" + str(ys[1]) + "]");
  const Slabs s = slabs_of(x.shape(), weight.shape(), ys, c);
  Tensor x2(s.slab_shape());
  gather_slabs(s, x.data(), x2.data());
  Tensor y2({s.n * s.dout, ys[1], ys[3], ys[4]});
  conv2d_forward(x2, weight.reshaped(weight2d(weight.shape())), bias, slab_config(c), y2);
  slabs_to_volume(y2, s.n, ys[1], s.dout, y);
}

void conv3d_backward_input(const Tensor& dy, const Tensor& weight, const Conv3dConfig& c, Tensor& dx) {
  const std::string where = "conv3d backward";
  const Shape ys = conv3d_output_shape(dx.shape(), weight.shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  const Slabs s = slabs_of(dx.shape(), weight.shape(), ys, c);
  Tensor dy2({s.n * s.dout, ys[1], ys[3], ys[4]});
  volume_to_slabs(dy, s.n, ys[1], s.dout, dy2);
  Tensor dx2(s.slab_shape());
  conv2d_backward_input(dy2, weight.reshaped(weight2d(weight.shape())), slab_config(c), dx2);
  scatter_slabs(s, dx2.data(), dx.data());
}

void conv3d_backward_params(const Tensor& x, const Tensor& dy, const Conv3dConfig& c, Tensor* dweight,
                            Tensor* dbias) {
  if (!dweight && !dbias) return;
  const std::string where = "conv3d backward";
  if (dy.rank() != 5) throw ShapeError(where + ": output gradient " + dy.shape().str() + ", expected rank 5");
  Tensor dy2({dy.dim(0) * dy.dim(2), dy.dim(1), dy.dim(3), dy.dim(4)});
  volume_to_slabs(dy, dy.dim(0), dy.dim(1), dy.dim(2), dy2);
  if (!dweight) {
    conv2d_backward_params(dy2, dy2, Conv2dConfig{}, nullptr, dbias);
    return;
  }
  const Shape ys = conv3d_output_shape(x.shape(), dweight->shape(), c, where);
  require_shape(dy, ys, where, "output gradient");
  const Slabs s = slabs_of(x.shape(), dweight->shape(), ys, c);
  Tensor x2(s.slab_shape());
  gather_slabs(s, x.data(), x2.data());
  Tensor dw2 = dweight->reshaped(weight2d(dweight->shape()));  // += into a copy, then back
  conv2d_backward_params(x2, dy2, slab_config(c), &dw2, dbias);
  std::copy(dw2.begin(), dw2.end(), dweight->begin());
}

// ---- 3-D pooling ----------------------------------------------------------------------

namespace {

struct Window1 {
  int64_t begin, end, padded;
};

inline Window1 window(int64_t o, int64_t stride, int64_t kernel, int64_t pad_before, int64_t pad_after, int64_t in) {
  const int64_t start = o * stride - pad_before;
  const int64_t stop = std::min(start + kernel, in + pad_after);
  return {std::max<int64_t>(start, 0), std::min(stop, in), stop - start};
}

struct Pool3dGeom {
  int64_t planes, in[3], out[3];
  Pool3dWindow w;
  Window1 axis(int a, int64_t o) const {
    const size_t u = static_cast<size_t>(a);
    return window(o, w.stride[u], w.kernel[u], w.pads[u], w.pads[u + 3], in[a]);
  }
};

Pool3dGeom pool_geom(const Shape& x, const Pool3dWindow& w, const Shape& y, const char* what) {
  const Shape expected = pool3d_output_shape(x, w, what);
  if (y != expected)
    throw ShapeError(std::string(what) + ": output " + y.str() + ", expected " + expected.str() + " for input " + x.str());
  return {x[0] * x[1], {x[2], x[3], x[4]}, {y[2], y[3], y[4]}, w};
}

/// fn(plane, output offset in plane, d, h, w windows) for every output element.
template <class Fn>
void each_window(const Pool3dGeom& g, Fn fn) {
  parallel_for(g.planes, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const Window1 wd = g.axis(0, od);
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const Window1 wh = g.axis(1, oh);
          for (int64_t ow = 0; ow < g.out[2]; ++ow)
            fn(p, (od * g.out[1] + oh) * g.out[2] + ow, wd, wh, g.axis(2, ow));
        }
      }
  });
}

}  // namespace

Shape pool3d_output_shape(const Shape& x, const Pool3dWindow& w, const std::string& where) {
  if (x.rank() != 5) throw ShapeError(where + ": input " + x.str() + ", expected rank 5 [N,C,D,H,W]");
  for (size_t a = 0; a < 3; ++a) {
    if (w.kernel[a] < 1) throw ValueError(where + ": kernel size " + list(w.kernel) + ", expected positive");
    if (w.stride[a] < 1) throw ValueError(where + ": stride " + list(w.stride) + ", expected positive");
    if (w.pads[a] < 0 || w.pads[a + 3] < 0) throw ValueError(where + ": pads " + list(w.pads) + ", expected >= 0");
    if (2 * w.pads[a] > w.kernel[a] || 2 * w.pads[a + 3] > w.kernel[a])
      throw ValueError(where + ": pads " + list(w.pads) + " should be at most half of the kernel " + list(w.kernel));
  }
  Shape y{x[0], x[1]};
  for (size_t a = 0; a < 3; ++a) {
    const int64_t in = x[static_cast<int>(a) + 2];
    if (in < 1 || in + w.pads[a] + w.pads[a + 3] < w.kernel[a])
      throw ShapeError(where + ": input " + x.str() + " padded by " + list(w.pads) + " is smaller than the kernel " +
                       list(w.kernel));
    y.push_back(pool_output_size(in, w.kernel[a], w.stride[a], w.pads[a], w.pads[a + 3], w.ceil_mode));
  }
  return y;
}

void max_pool3d_forward(const Tensor& x, const Pool3dWindow& w, Tensor& y, int64_t* indices) {
  const Pool3dGeom g = pool_geom(x.shape(), w, y.shape(), "max_pool3d");
  const int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
  each_window(g, [&](int64_t p, int64_t o, const Window1& wd, const Window1& wh, const Window1& ww) {
    const float* xp = x.data() + p * in_plane;
    float best = -std::numeric_limits<float>::infinity();
    int64_t arg = -1;
    for (int64_t d = wd.begin; d < wd.end; ++d)
      for (int64_t h = wh.begin; h < wh.end; ++h)
        for (int64_t c = ww.begin; c < ww.end; ++c) {
          const int64_t i = (d * g.in[1] + h) * g.in[2] + c;
          const float v = xp[i];
          if (arg < 0 || v > best || (std::isnan(v) && !std::isnan(best))) {
            best = v;
            arg = i;
          }
        }
    y.data()[p * out_plane + o] = best;
    if (indices) indices[p * out_plane + o] = p * in_plane + arg;
  });
}

void max_pool3d_backward(const Tensor& x, const Pool3dWindow& w, const Tensor& dy, Tensor& dx) {
  std::vector<int64_t> idx(static_cast<size_t>(dy.numel()));
  Tensor y(dy.shape());
  max_pool3d_forward(x, w, y, idx.data());
  require_shape(dx, x.shape(), "max_pool3d backward", "input gradient");
  for (int64_t j = 0; j < dy.numel(); ++j) dx.data()[idx[static_cast<size_t>(j)]] += dy.data()[j];
}

namespace {

float divisor(const Pool3dGeom& g, const Window1& wd, const Window1& wh, const Window1& ww) {
  const int64_t n = g.w.count_include_pad ? wd.padded * wh.padded * ww.padded
                                          : (wd.end - wd.begin) * (wh.end - wh.begin) * (ww.end - ww.begin);
  return n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
}

}  // namespace

void avg_pool3d_forward(const Tensor& x, const Pool3dWindow& w, Tensor& y) {
  const Pool3dGeom g = pool_geom(x.shape(), w, y.shape(), "avg_pool3d");
  const int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
  each_window(g, [&](int64_t p, int64_t o, const Window1& wd, const Window1& wh, const Window1& ww) {
    const float* xp = x.data() + p * in_plane;
    double s = 0.0;
    for (int64_t d = wd.begin; d < wd.end; ++d)
      for (int64_t h = wh.begin; h < wh.end; ++h)
        for (int64_t c = ww.begin; c < ww.end; ++c) s += xp[(d * g.in[1] + h) * g.in[2] + c];
    y.data()[p * out_plane + o] = static_cast<float>(s) * divisor(g, wd, wh, ww);
  });
}

void avg_pool3d_backward(const Pool3dWindow& w, const Tensor& dy, Tensor& dx) {
  const Pool3dGeom g = pool_geom(dx.shape(), w, dy.shape(), "avg_pool3d backward");
  const int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
  // Windows of one plane overlap; planes are independent (each_window splits by plane).
  each_window(g, [&](int64_t p, int64_t o, const Window1& wd, const Window1& wh, const Window1& ww) {
    float* xp = dx.data() + p * in_plane;
    const float v = dy.data()[p * out_plane + o] * divisor(g, wd, wh, ww);
    for (int64_t d = wd.begin; d < wd.end; ++d)
      for (int64_t h = wh.begin; h < wh.end; ++h)
        for (int64_t c = ww.begin; c < ww.end; ++c) xp[(d * g.in[1] + h) * g.in[2] + c] += v;
  });
}

}  // namespace trim::kernels
