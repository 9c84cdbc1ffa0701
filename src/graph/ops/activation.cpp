#include "trim/graph/ops/activation.hpp"

#include <algorithm>
#include <cmath>

#include "masked_backward.hpp"
#include "over_elements.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/graph/nn.hpp"
#include "trim/kernels/activation.hpp"

namespace trim::ops {

namespace {

using detail::over_elements;

/// Elements per stack-resident φ' chunk in backward.
constexpr int64_t kChunk = 1024;

void require_finite(float v, const char* what, const std::string& where) {
  if (!std::isfinite(v))
    throw ValueError(where + ": " + what + " is " + std::to_string(v) + ", expected a finite value");
}

}  // namespace

void Activation::forward(const OpArgs& args, Tensor& y) const {
  const float* x = args.input().data();
  float* out = y.data();
  over_elements(y.numel(), [&](int64_t b, int64_t e) { phi(x + b, out + b, e - b); });
}

void Activation::backward(const OpArgs& args, const Tensor&, const Tensor& dy,
                          const OpGrads& grads) const {
  Tensor* dx = grads.input(0);
  if (!dx) return;
  const float* x = args.input().data();
  const float* g = dy.data();
  float* out = dx->data();
  const bool assign = grads.assigns(0);
  over_elements(dy.numel(), [&](int64_t b, int64_t e) {
    alignas(64) float d[kChunk];
    for (int64_t o = b; o < e; o += kChunk) {
      const int64_t m = std::min(kChunk, e - o);
      dphi(x + o, d, m);
      if (assign)
        for (int64_t i = 0; i < m; ++i) out[o + i] = 0.0f + g[o + i] * d[i];
      else
        for (int64_t i = 0; i < m; ++i) out[o + i] += g[o + i] * d[i];
    }
  });
}

void Relu::phi(const float* x, float* y, int64_t n) const { kernels::relu_forward(x, y, n); }
void Relu::dphi(const float* x, float* d, int64_t n) const { kernels::relu_derivative(x, d, n); }
void Relu::backward(const OpArgs&, const Tensor& y, const Tensor& dy, const OpGrads& grads) const {
  // x > 0 exactly where y = max(x, 0) > 0.
  detail::masked_backward(y, dy, grads, [](float v) { return v > 0.0f; });
}

Shape LeakyRelu::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                             const std::string& where) const {
  require_finite(negative_slope_, "negative_slope", where);
  return Activation::infer_shape(in, params, where);
}
void LeakyRelu::phi(const float* x, float* y, int64_t n) const {
  kernels::leaky_relu_forward(x, y, n, negative_slope_);
}
void LeakyRelu::dphi(const float* x, float* d, int64_t n) const {
  kernels::leaky_relu_derivative(x, d, n, negative_slope_);
}

Shape Elu::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                       const std::string& where) const {
  require_finite(alpha_, "alpha", where);
  return Activation::infer_shape(in, params, where);
}
void Elu::phi(const float* x, float* y, int64_t n) const { kernels::elu_forward(x, y, n, alpha_); }
void Elu::dphi(const float* x, float* d, int64_t n) const { kernels::elu_derivative(x, d, n, alpha_); }

void Tanh::phi(const float* x, float* y, int64_t n) const { kernels::tanh_forward(x, y, n); }
void Tanh::dphi(const float* x, float* d, int64_t n) const { kernels::tanh_derivative(x, d, n); }

void Sigmoid::phi(const float* x, float* y, int64_t n) const { kernels::sigmoid_forward(x, y, n); }
void Sigmoid::dphi(const float* x, float* d, int64_t n) const { kernels::sigmoid_derivative(x, d, n); }

void silu_forward(const Tensor& x, Tensor& s, Tensor& y) {
  const float* px = x.data();
  float *ps = s.data(), *py = y.data();
  over_elements(x.numel(), [&](int64_t b, int64_t e) { kernels::silu_forward(px + b, ps + b, py + b, e - b); });
}

void silu_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor& dx, bool assign) {
  const float *px = x.data(), *ps = s.data(), *pd = dy.data();
  float* out = dx.data();
  over_elements(dy.numel(), [&](int64_t b, int64_t e) {
    kernels::silu_backward(px + b, ps + b, pd + b, out + b, e - b, assign);
  });
}

Shape Softplus::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                            const std::string& where) const {
  require_finite(beta_, "beta", where);
  if (beta_ == 0.0f) throw ValueError(where + ": beta is 0, expected a nonzero value");
  if (std::isnan(threshold_)) throw ValueError(where + ": threshold is NaN");
  return Activation::infer_shape(in, params, where);
}
void Softplus::phi(const float* x, float* y, int64_t n) const {
  kernels::softplus_forward(x, y, n, beta_, threshold_);
}
void Softplus::dphi(const float* x, float* d, int64_t n) const {
  kernels::softplus_derivative(x, d, n, beta_, threshold_);
}

void Gelu::phi(const float* x, float* y, int64_t n) const { kernels::gelu_forward(x, y, n); }
void Gelu::dphi(const float* x, float* d, int64_t n) const { kernels::gelu_derivative(x, d, n); }

}  // namespace trim::ops

namespace trim::nn {

NodeId relu(Graph& g, NodeId x, const std::string& name) {
  return g.add(std::make_shared<ops::Relu>(), {x}, {}, name);
}

NodeId leaky_relu(Graph& g, NodeId x, float negative_slope, const std::string& name) {
  return g.add(std::make_shared<ops::LeakyRelu>(negative_slope), {x}, {}, name);
}

NodeId elu(Graph& g, NodeId x, float alpha, const std::string& name) {
  return g.add(std::make_shared<ops::Elu>(alpha), {x}, {}, name);
}

NodeId tanh(Graph& g, NodeId x, const std::string& name) {
  return g.add(std::make_shared<ops::Tanh>(), {x}, {}, name);
}

NodeId sigmoid(Graph& g, NodeId x, const std::string& name) {
  return g.add(std::make_shared<ops::Sigmoid>(), {x}, {}, name);
}

NodeId softplus(Graph& g, NodeId x, float beta, float threshold, const std::string& name) {
  return g.add(std::make_shared<ops::Softplus>(beta, threshold), {x}, {}, name);
}

NodeId gelu(Graph& g, NodeId x, const std::string& name) {
  return g.add(std::make_shared<ops::Gelu>(), {x}, {}, name);
}

}  // namespace trim::nn
