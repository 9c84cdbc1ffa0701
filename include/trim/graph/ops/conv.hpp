#pragma once
/// \file
/// Convolution ops (Kind::Linear): y = conv(x, W) + b, affine in x with the
/// bias broadcast over batch and space. Built by `nn::conv1d` / `nn::conv2d`.

#include "trim/graph/op.hpp"
#include "trim/kernels/conv.hpp"

namespace trim::ops {

/// [N, C_in, L] -> [N, C_out, L_out]. Params: weight [C_out, C_in/groups, k],
/// optional bias [C_out]. The kernel size is the weight's last dimension.
class Conv1d final : public Op {
 public:
  /// Input gradients need only dy and the weights; parameter gradients read the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads; }
  bool backward_reads_output() const override { return false; }
  bool backward_assigns() const override { return true; }
  /// The kernels' packing buffers and padded input (kernels::conv*d_scratch_floats).
  int64_t scratch_floats(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                         const Shape& output) const override;
  /// Throws ValueError on a bad configuration (stride, dilation or groups < 1,
  /// negative pads).
  Conv1d(const kernels::Conv1dConfig& config, bool bias);
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "conv1d"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return bias_; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;

  // Configuration, for exporters (ONNX Conv attributes).
  const kernels::Conv1dConfig& config() const { return config_; }
  int64_t stride() const { return config_.stride; }
  int64_t pad_left() const { return config_.pad_left; }
  int64_t pad_right() const { return config_.pad_right; }
  int64_t dilation() const { return config_.dilation; }
  int64_t groups() const { return config_.groups; }
  bool bias() const { return bias_; }

 private:
  kernels::Conv1dConfig config_;
  bool bias_;
};

/// [N, C_in, H, W] -> [N, C_out, H_out, W_out]. Params: weight
/// [C_out, C_in/groups, kh, kw], optional bias [C_out] (torch.nn.Conv2d).
class Conv2d final : public Op {
 public:
  /// Input gradients need only dy and the weights; parameter gradients read the input.
  bool backward_reads_inputs(bool param_grads) const override { return param_grads; }
  bool backward_reads_output() const override { return false; }
  bool backward_assigns() const override { return true; }
  /// The kernels' packing buffers and padded input (kernels::conv*d_scratch_floats).
  int64_t scratch_floats(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                         const Shape& output) const override;
  /// Throws ValueError on a bad configuration.
  Conv2d(const kernels::Conv2dConfig& config, bool bias);
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "conv2d"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return bias_; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
  /// forward, then y = max(0, y + residual) (residual when not null) in the
  /// convolution's own pass: the executor's fused ReLU (graph/fusion.hpp).
  /// With clip_max > 0, min(max(y + residual, 0), clip_max) instead, as
  /// Clip(0, clip_max) computes it (a fused ReLU6).
  void forward_relu(const OpArgs& args, Tensor& y, const Tensor* residual, float clip_max = 0.0f) const;
  /// The input gradient alone, overwriting dx, with the backward of the
  /// ReLU (and batch norm) before the convolution applied as it is stored:
  /// the executor's fused backward of batch norm → ReLU → conv.
  void backward_input_fused(const OpArgs& args, const Tensor& dy, Tensor& dx,
                            const kernels::ConvGradientEpilogue& after) const;

  // Configuration, for exporters (ONNX Conv attributes).
  const kernels::Conv2dConfig& config() const { return config_; }
  const std::array<int64_t, 2>& stride() const { return config_.stride; }
  /// {top, left, bottom, right}, the order of ONNX `pads`.
  const std::array<int64_t, 4>& pads() const { return config_.pads; }
  const std::array<int64_t, 2>& dilation() const { return config_.dilation; }
  int64_t groups() const { return config_.groups; }
  bool bias() const { return bias_; }

 private:
  kernels::Conv2dConfig config_;
  bool bias_;
};

}  // namespace trim::ops
