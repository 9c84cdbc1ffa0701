#include "trim/kernels/batch_norm.hpp"

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim::kernels {

namespace {

/// Below this many elements a call runs on one thread.
constexpr int64_t parallel_work = int64_t{1} << 16;

/// (N, C, S) view of x: S is the product of the axes after 1.
struct Dims {
  int64_t n, c, s;
};

Dims dims_of(const Tensor& x, int64_t channels, const char* what) {
  if (x.rank() < 2 || x.dim(1) != channels)
    throw ShapeError(std::string(what) + ": input " + x.shape().str() + ", expected [N," +
                     std::to_string(channels) + ",...]");
  return {x.dim(0), channels, x.shape().numel(2, x.rank())};
}

/// fn(plane_begin, plane_end) over the N·C planes, in parallel when large.
template <class Fn>
void for_planes(const Dims& d, Fn&& fn) {
  const int64_t planes = d.n * d.c;
  if (planes > 1 && planes * d.s >= parallel_work)
    parallel_for(planes, fn);
  else
    fn(0, planes);
}

}  // namespace

void batch_norm_coefficients(const Tensor& weight, const Tensor& bias, const Tensor& mean,
                             const Tensor& var, float eps, float* scale, float* shift) {
  const int64_t c = weight.numel();
  if (bias.numel() != c || mean.numel() != c || var.numel() != c)
    throw ShapeError("batch_norm: weight " + weight.shape().str() + ", bias " + bias.shape().str() +
                     ", running_mean " + mean.shape().str() + ", running_var " + var.shape().str() +
                     ", expected all [" + std::to_string(c) + "]");
  for (int64_t k = 0; k < c; ++k) {
    // Same operation order as PyTorch's eval-mode batch norm.
    const float invstd = 1.0f / std::sqrt(var[k] + eps);
    const float a = weight[k] * invstd;
    if (scale) scale[k] = a;
    if (shift) shift[k] = bias[k] - mean[k] * a;
  }
}

namespace {

/// y's planes = x's planes · scale (+ shift) (max(0, ·) with `relu`), plane
/// p = (example, channel) of x read at in(p): one loop for a whole input and
/// for the inputs of a channel concatenation.
template <class PlaneIn>
void affine_planes(const Dims& d, const Tensor& weight, const Tensor& bias, const Tensor& mean, const Tensor& var,
                   float eps, bool with_shift, bool relu, const PlaneIn& in, float* yd) {
  std::vector<float> coef(static_cast<size_t>(2 * d.c));
  float* scale = coef.data();
  float* shift = coef.data() + d.c;
  batch_norm_coefficients(weight, bias, mean, var, eps, scale, shift);
  for_planes(d, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t ch = p % d.c;
      const float a = scale[ch], b = with_shift ? shift[ch] : 0.0f;
      const float* xp = in(p);
      float* yp = yd + p * d.s;
      if (relu)
        for (int64_t i = 0; i < d.s; ++i) {
          const float v = xp[i] * a + b;
          yp[i] = v > 0.0f ? v : 0.0f;
        }
      else
        for (int64_t i = 0; i < d.s; ++i) yp[i] = xp[i] * a + b;
    }
  });
}

}  // namespace

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                        const Tensor& var, float eps, Tensor& y, bool with_shift, bool relu) {
  const Dims d = dims_of(x, weight.numel(), "batch_norm");
  if (y.shape() != x.shape())
    throw ShapeError("batch_norm: output " + y.shape().str() + ", expected " + x.shape().str());
  const float* xd = x.data();
  affine_planes(d, weight, bias, mean, var, eps, with_shift, relu, [&](int64_t p) { return xd + p * d.s; }, y.data());
}

void batch_norm_relu_forward_concat(const std::vector<const Tensor*>& parts, const Tensor& weight, const Tensor& bias,
                                    const Tensor& mean, const Tensor& var, float eps, Tensor& y) {
  const Dims d = dims_of(y, weight.numel(), "batch_norm");
  // Channel ch of the concatenation is channel ch − first of one part:
  // its planes start at from[ch] and lie step[ch] floats apart.
  std::vector<const float*> from(static_cast<size_t>(d.c));
  std::vector<int64_t> step(static_cast<size_t>(d.c));
  int64_t first = 0;
  for (const Tensor* t : parts) {
    const int64_t c = t->rank() >= 2 ? t->dim(1) : 0;
    if (t->rank() != y.rank() || t->dim(0) != d.n || t->shape().numel(2, t->rank()) != d.s || first + c > d.c)
      throw ShapeError("batch_norm of a concatenation: input " + t->shape().str() + " does not fit output " +
                       y.shape().str() + " at channel " + std::to_string(first));
    for (int64_t k = 0; k < c; ++k) {
      from[static_cast<size_t>(first + k)] = t->data() + k * d.s;
      step[static_cast<size_t>(first + k)] = c * d.s;
    }
    first += c;
  }
  if (first != d.c)
    throw ShapeError("batch_norm of a concatenation: inputs hold " + std::to_string(first) + " channels, output " +
                     y.shape().str());
  const auto in = [&](int64_t p) {
    const size_t ch = static_cast<size_t>(p % d.c);
    return from[ch] + p / d.c * step[ch];
  };
  affine_planes(d, weight, bias, mean, var, eps, true, true, in, y.data());
}

void batch_norm_add_shift(const Tensor& weight, const Tensor& bias, const Tensor& mean, const Tensor& var,
                          float eps, Tensor& y, float alpha) {
  const Dims d = dims_of(y, weight.numel(), "batch_norm");
  std::vector<float> shift(static_cast<size_t>(d.c));
  batch_norm_coefficients(weight, bias, mean, var, eps, nullptr, shift.data());
  float* yd = y.data();
  for_planes(d, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float b = alpha * shift[static_cast<size_t>(p % d.c)];
      float* yp = yd + p * d.s;
      for (int64_t i = 0; i < d.s; ++i) yp[i] += b;
    }
  });
}

void batch_norm_backward_input(const Tensor& dy, const Tensor& weight, const Tensor& var, float eps,
                               Tensor& dx, bool overwrite, const Tensor* relu_output) {
  const Dims d = dims_of(dy, weight.numel(), "batch_norm backward");
  if (dx.shape() != dy.shape() || var.numel() != d.c || (relu_output && relu_output->shape() != dy.shape()))
    throw ShapeError("batch_norm backward: gradient " + dx.shape().str() + ", running_var " +
                     var.shape().str() + (relu_output ? ", ReLU output " + relu_output->shape().str() : "") +
                     " for output gradient " + dy.shape().str());
  const float* z = relu_output ? relu_output->data() : nullptr;
  const Tensor scale = batch_norm_gradient_scale(weight, var, eps);
  const float* g = dy.data();
  float* out = dx.data();
  for_planes(d, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float a = scale[p % d.c];
      const float* gp = g + p * d.s;
      float* op = out + p * d.s;
      if (z) {
        // The ReLU's mask (0 + dy·[z > 0], as its backward writes it), then the scale.
        const float* zp = z + p * d.s;
        if (overwrite)
          for (int64_t i = 0; i < d.s; ++i) {
            const float m = zp[i] > 0.0f ? 1.0f : 0.0f;
            op[i] = (0.0f + gp[i] * m) * a + 0.0f;
          }
        else
          for (int64_t i = 0; i < d.s; ++i) {
            const float m = zp[i] > 0.0f ? 1.0f : 0.0f;
            op[i] += (0.0f + gp[i] * m) * a;
          }
      } else if (overwrite)
        for (int64_t i = 0; i < d.s; ++i) op[i] = gp[i] * a + 0.0f;  // as 0 + dy·a: −0 becomes +0
      else
        for (int64_t i = 0; i < d.s; ++i) op[i] += gp[i] * a;
    }
  });
}

Tensor batch_norm_gradient_scale(const Tensor& weight, const Tensor& var, float eps) {
  if (var.numel() != weight.numel())
    throw ShapeError("batch_norm backward: running_var " + var.shape().str() + " for weight " + weight.shape().str());
  Tensor scale(Shape{weight.numel()});
  for (int64_t k = 0; k < weight.numel(); ++k) scale[k] = weight[k] * (1.0f / std::sqrt(var[k] + eps));
  return scale;
}

void batch_norm_backward_params(const Tensor& x, const Tensor& dy, const Tensor& mean, const Tensor& var,
                                float eps, Tensor* dweight, Tensor* dbias) {
  if (!dweight && !dbias) return;
  const Dims d = dims_of(x, mean.numel(), "batch_norm backward");
  if (dy.shape() != x.shape() || var.numel() != d.c || (dweight && dweight->numel() != d.c) ||
      (dbias && dbias->numel() != d.c))
    throw ShapeError("batch_norm backward: output gradient " + dy.shape().str() + " for input " +
                     x.shape().str() + ", expected per-channel tensors of " + std::to_string(d.c));
  // Per-channel sums, parallel over channels (each thread owns whole
  // channels, so the result does not depend on the thread count); the
  // batch terms of a channel are gathered in double.
  const float* xd = x.data();
  const float* gd = dy.data();
  const auto channels = [&](int64_t begin, int64_t end) {
    for (int64_t ch = begin; ch < end; ++ch) {
      const float m = mean[ch];
      double sum_dy = 0.0, sum_dy_x = 0.0;
      for (int64_t n = 0; n < d.n; ++n) {
        // Eigen's reductions are vectorised (several partial sums).
        const Eigen::Map<const Eigen::ArrayXf> xp(xd + (n * d.c + ch) * d.s, d.s);
        const Eigen::Map<const Eigen::ArrayXf> gp(gd + (n * d.c + ch) * d.s, d.s);
        sum_dy += gp.sum();
        sum_dy_x += (gp * (xp - m)).sum();
      }
      if (dweight) (*dweight)[ch] += static_cast<float>(sum_dy_x / std::sqrt(double(var[ch]) + eps));
      if (dbias) (*dbias)[ch] += static_cast<float>(sum_dy);
    }
  };
  if (d.c > 1 && d.n * d.c * d.s >= parallel_work)
    parallel_for(d.c, channels);
  else
    channels(0, d.c);
}

}  // namespace trim::kernels
