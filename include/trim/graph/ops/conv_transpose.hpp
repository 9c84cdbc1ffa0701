#pragma once
/// \file
/// Transposed convolution op (Kind::Linear): y = convᵀ(x, W) + b, the
/// upsampling layer of U-Nets and decoders (torch.nn.ConvTranspose1d / 2d,
/// ONNX ConvTranspose). Built by `nn::conv_transpose1d` / `nn::conv_transpose2d`.

#include "trim/graph/op.hpp"
#include "trim/kernels/conv_transpose.hpp"

namespace trim::ops {

/// [N, C_in, (H,) W] -> [N, C_out, (H_out,) W_out]. Params: weight
/// [C_in, C_out/groups, (kh,) kw], optional bias [C_out]. `spatial` is 1 or 2.
class ConvTranspose final : public Op {
 public:
  /// Throws ValueError on a bad configuration (see kernels::validate).
  ConvTranspose(int spatial, const kernels::ConvTransposeConfig& config, bool bias);
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return spatial_ == 1 ? "conv_transpose1d" : "conv_transpose2d"; }
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

  int spatial_dims() const { return spatial_; }
  const kernels::ConvTransposeConfig& config() const { return config_; }
  bool bias() const { return bias_; }

 private:
  int spatial_;
  kernels::ConvTransposeConfig config_;
  bool bias_;
};

}  // namespace trim::ops
