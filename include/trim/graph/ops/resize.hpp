#pragma once
/// \file
/// Resizing op (Kind::Linear without bias): nearest, linear and cubic
/// interpolation of the spatial axes of [N, C, spatial...] (ONNX Resize /
/// Upsample, torch F.interpolate / nn.Upsample). Every mode is a fixed linear
/// map of the input, so gradients, DeepLIFT and CD pass through it exactly.

#include "trim/graph/op.hpp"
#include "trim/kernels/resize.hpp"

namespace trim::ops {

class Resize final : public Op {
 public:
  explicit Resize(kernels::ResizeConfig config) : config_(std::move(config)) {}
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "resize"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_inputs(bool) const override { return false; }  // dy and the input's shape (in grads)
  bool backward_reads_output() const override { return false; }
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}

  const kernels::ResizeConfig& config() const { return config_; }

 private:
  kernels::ResizeConfig config_;
};

}  // namespace trim::ops
