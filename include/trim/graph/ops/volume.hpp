#pragma once
/// \file
/// Ops over volumes [N, C, D, H, W]: 3-D convolution (Kind::Linear), max
/// pooling (Kind::Selection) and average pooling (Kind::Linear, no bias), as
/// torch.nn.Conv3d / MaxPool3d / AvgPool3d. Built by `nn::conv3d`,
/// `nn::max_pool3d`, `nn::avg_pool3d`.

#include "trim/graph/op.hpp"
#include "trim/kernels/volume.hpp"

namespace trim::ops {

/// Params: weight [C_out, C_in/groups, kd, kh, kw], optional bias [C_out].
class Conv3d final : public Op {
 public:
  /// Throws ValueError on a bad configuration.
  Conv3d(const kernels::Conv3dConfig& config, bool bias);
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "conv3d"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  /// Input gradients need only dy and the weights; parameter gradients read the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads; }
  bool backward_reads_output() const override { return false; }
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return bias_; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;

  const kernels::Conv3dConfig& config() const { return config_; }
  bool bias() const { return bias_; }

 private:
  kernels::Conv3dConfig config_;
  bool bias_;
};

/// Max over each window; padding never wins. Kind::Selection.
class MaxPool3d final : public Op {
 public:
  explicit MaxPool3d(const kernels::Pool3dWindow& window) : window_(window) {}
  Kind kind() const override { return Kind::Selection; }
  std::string type() const override { return "max_pool3d"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }  // reads the input only
  void select_indices(const OpArgs& args, std::vector<int64_t>& index) const override;
  const kernels::Pool3dWindow& window() const { return window_; }

 private:
  kernels::Pool3dWindow window_;
};

/// Mean over each window (PyTorch's divisor rules). Kind::Linear without bias.
class AvgPool3d final : public Op {
 public:
  explicit AvgPool3d(const kernels::Pool3dWindow& window) : window_(window) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "avg_pool3d"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return false; }  // dy suffices
  bool backward_reads_output() const override { return false; }
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}
  const kernels::Pool3dWindow& window() const { return window_; }

 private:
  kernels::Pool3dWindow window_;
};

}  // namespace trim::ops
