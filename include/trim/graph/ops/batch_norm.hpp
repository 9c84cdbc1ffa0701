#pragma once
/// \file
/// Inference-form batch normalisation (Kind::Linear).

#include "trim/graph/op.hpp"

namespace trim::ops {

/// y = x · scale[c] + shift[c] over axis 1 of an input of rank ≥ 2, with
/// scale = weight / √(running_var + eps) and shift = bias − running_mean ·
/// scale (torch.nn.BatchNorm*d in eval mode). Params in order: weight, bias,
/// running_mean, running_var, all [C]. As a Linear op, A(x) = x · scale and
/// the bias is shift; running statistics get no gradient.
class BatchNorm final : public Op {
 public:
  /// Input gradients need only dy and the weights; parameter gradients read the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads; }
  bool backward_reads_output() const override { return false; }
  bool backward_assigns() const override { return true; }
  explicit BatchNorm(float eps = 1e-5f) : eps_(eps) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "batch_norm"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return true; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
  /// y = max(0, forward) in one pass: the executor's fused ReLU (graph/fusion.hpp).
  void forward_relu(const OpArgs& args, Tensor& y) const;
  /// The same for an input that is the concatenation of `parts` along axis
  /// 1, read where they lie (args' input is not read): the executor's
  /// concat → batch norm → ReLU (graph/fusion.hpp).
  void forward_relu_concat(const OpArgs& args, const std::vector<const Tensor*>& parts, Tensor& y) const;
  /// The input gradient through this batch norm and the ReLU after it, from
  /// the ReLU's output z and output gradient dz: dx (= when `assign`, else
  /// +=) dz·[z > 0]·scale, bit for bit the two backward passes in turn.
  void backward_relu(const OpArgs& args, const Tensor& z, const Tensor& dz, Tensor& dx, bool assign) const;
  /// The factor its input gradient is its output gradient times, per channel.
  Tensor gradient_scale(const OpArgs& args) const;

  float eps() const { return eps_; }

 private:
  float eps_;
};

}  // namespace trim::ops
