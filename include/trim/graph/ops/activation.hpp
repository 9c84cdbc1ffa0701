#pragma once
/// \file
/// Elementwise activations (Kind::Elementwise): y_i = φ(x_i).
///
/// Each op only supplies φ and φ' (`phi` / `dphi`, from trim/kernels/activation.hpp);
/// the graph, DeepLIFT and contextual decomposition need nothing else. The
/// shared base `Activation` runs large tensors in parallel chunks and fuses
/// dx += dy ⊙ φ'(x) so backward allocates nothing. Configuration (slopes,
/// α, β) is fixed at construction and checked when the node is added.

#include "trim/graph/op.hpp"

namespace trim::ops {

/// Base of the activations below: chunked, parallel forward and a fused
/// backward on top of the virtual φ / φ' (one virtual call per chunk).
class Activation : public ElementwiseOp {
 public:
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
};

/// max(x, 0) (torch.nn.ReLU).
class Relu final : public Activation {
 public:
  std::string type() const override { return "relu"; }
  bool relu_like() const override { return true; }
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  /// Activation's backward in one pass (φ' is a comparison, not worth a
  /// buffer), read off the output: y > 0 exactly where x > 0. So a forward
  /// for input gradients keeps the ReLU's output, and the convolution before
  /// it may write that output directly (the executor's fused ReLU).
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy, const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return false; }
  bool backward_reads_output() const override { return true; }
  bool backward_in_place() const override { return true; }
};

/// x for x > 0, else negative_slope · x (torch.nn.LeakyReLU).
class LeakyRelu final : public Activation {
 public:
  explicit LeakyRelu(float negative_slope = 0.01f) : negative_slope_(negative_slope) {}
  std::string type() const override { return "leaky_relu"; }
  bool relu_like() const override { return true; }
  /// Also rejects a non-finite slope (ValueError).
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  float negative_slope() const { return negative_slope_; }

 private:
  float negative_slope_;
};

/// x for x > 0, else α·(exp(x) − 1) (torch.nn.ELU).
class Elu final : public Activation {
 public:
  explicit Elu(float alpha = 1.0f) : alpha_(alpha) {}
  std::string type() const override { return "elu"; }
  /// Also rejects a non-finite α (ValueError).
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  float alpha() const { return alpha_; }

 private:
  float alpha_;
};

/// tanh(x) (torch.nn.Tanh).
class Tanh final : public Activation {
 public:
  std::string type() const override { return "tanh"; }
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
};

/// 1 / (1 + exp(−x)) (torch.nn.Sigmoid).
class Sigmoid final : public Activation {
 public:
  std::string type() const override { return "sigmoid"; }
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
};

/// A SiLU x·σ(x) built as Mul(x, Sigmoid(x)) forward in one pass: writes
/// both values, s = σ(x) and y = x·s, as the two nodes would.
void silu_forward(const Tensor& x, Tensor& s, Tensor& y);

/// The input gradient of a SiLU x·σ(x) built as Mul(x, Sigmoid(x)), in one
/// pass from x, s = σ(x) and dy: dx (= when `assign`, else +=)
/// dy·(s + x·s·(1 − s)). The gradient pass uses it in place of the product's
/// and the sigmoid's backward (see trim/graph/fusion.hpp).
void silu_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor& dx, bool assign);

/// (1/β)·log(1 + exp(βx)), and x where βx > threshold (torch.nn.Softplus).
class Softplus final : public Activation {
 public:
  explicit Softplus(float beta = 1.0f, float threshold = 20.0f) : beta_(beta), threshold_(threshold) {}
  std::string type() const override { return "softplus"; }
  /// Also rejects β = 0, a non-finite β and a NaN threshold (ValueError).
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
  float beta() const { return beta_; }
  float threshold() const { return threshold_; }

 private:
  float beta_;
  float threshold_;
};

/// Exact GELU, x·Φ(x) (torch.nn.GELU() with approximate='none').
class Gelu final : public Activation {
 public:
  std::string type() const override { return "gelu"; }
  void phi(const float* x, float* y, int64_t n) const override;
  void dphi(const float* x, float* d, int64_t n) const override;
};

}  // namespace trim::ops
