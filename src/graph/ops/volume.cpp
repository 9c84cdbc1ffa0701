#include "trim/graph/ops/volume.hpp"

#include "channel_bias.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

namespace trim::ops {

// ---- Conv3d ---------------------------------------------------------------------

Conv3d::Conv3d(const kernels::Conv3dConfig& config, bool bias) : config_(config), bias_(bias) {
  kernels::validate(config_, "conv3d");
}

Shape Conv3d::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                          const std::string& where) const {
  const Shape y = kernels::conv3d_output_shape(in.at(0), params.at(0), config_, where);
  detail::check_channel_bias(bias_, params, y[1], where);
  return y;
}

void Conv3d::forward(const OpArgs& a, Tensor& y) const {
  kernels::conv3d_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, config_, y);
}

void Conv3d::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::conv3d_forward(a.input(), a.param(0), nullptr, config_, y);
}

void Conv3d::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (bias_) detail::add_channel_bias(a.param(1), y, scale);
}

void Conv3d::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::conv3d_backward_input(dy, a.param(0), config_, *dx);
  kernels::conv3d_backward_params(a.input(), dy, config_, g.param(0), bias_ ? g.param(1) : nullptr);
}

// ---- pools ----------------------------------------------------------------------------

Shape MaxPool3d::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  return kernels::pool3d_output_shape(in.at(0), window_, where);
}

void MaxPool3d::forward(const OpArgs& a, Tensor& y) const { kernels::max_pool3d_forward(a.input(), window_, y); }

void MaxPool3d::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::max_pool3d_backward(a.input(), window_, dy, *dx);
}

void MaxPool3d::select_indices(const OpArgs& a, std::vector<int64_t>& index) const {
  const Tensor& x = a.input();
  Tensor y(kernels::pool3d_output_shape(x.shape(), window_, type()));
  index.resize(static_cast<size_t>(y.numel()));
  kernels::max_pool3d_forward(x, window_, y, index.data());
}

Shape AvgPool3d::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  return kernels::pool3d_output_shape(in.at(0), window_, where);
}

void AvgPool3d::forward(const OpArgs& a, Tensor& y) const { kernels::avg_pool3d_forward(a.input(), window_, y); }

void AvgPool3d::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::avg_pool3d_backward(window_, dy, *dx);
}

}  // namespace trim::ops

namespace trim::nn {

NodeId conv3d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 3> kernel, const std::string& name,
              const kernels::Conv3dConfig& config, bool bias) {
  const std::string where = "conv3d '" + name + "'";
  kernels::validate(config, where);
  const Shape& xs = g.shape(x);
  if (xs.rank() != 5) throw ShapeError(where + ": input " + xs.str() + ", expected rank 5 [N,C_in,D,H,W]");
  if (out_channels < 1 || out_channels % config.groups != 0 || xs[1] % config.groups != 0)
    throw ValueError(where + ": groups " + std::to_string(config.groups) + " must divide the " +
                     std::to_string(xs[1]) + " input and " + std::to_string(out_channels) + " output channels");
  for (int64_t k : kernel)
    if (k < 1) throw ValueError(where + ": kernel size " + std::to_string(k) + ", expected >= 1");
  const Shape wshape{out_channels, xs[1] / config.groups, kernel[0], kernel[1], kernel[2]};
  kernels::conv3d_output_shape(xs, wshape, config, where);  // fail before adding parameters
  const int64_t fan_in = xs[1] / config.groups * kernel[0] * kernel[1] * kernel[2];
  std::vector<int> params{g.add_parameter(name + ".weight", Tensor(wshape), Init::fan_in_uniform(fan_in))};
  if (bias)
    params.push_back(g.add_parameter(name + ".bias", Tensor({out_channels}), Init::fan_in_uniform(fan_in)));
  return g.add(std::make_shared<ops::Conv3d>(config, bias), {x}, params, name);
}

NodeId max_pool3d(Graph& g, NodeId x, const kernels::Pool3dWindow& window, const std::string& name) {
  return g.add(std::make_shared<ops::MaxPool3d>(window), {x}, {}, name);
}

NodeId avg_pool3d(Graph& g, NodeId x, const kernels::Pool3dWindow& window, const std::string& name) {
  return g.add(std::make_shared<ops::AvgPool3d>(window), {x}, {}, name);
}

}  // namespace trim::nn
