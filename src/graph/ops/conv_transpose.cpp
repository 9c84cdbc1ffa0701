#include "trim/graph/ops/conv_transpose.hpp"

#include "channel_bias.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

namespace trim::ops {

ConvTranspose::ConvTranspose(int spatial, const kernels::ConvTransposeConfig& config, bool bias)
    : spatial_(spatial), config_(config), bias_(bias) {
  if (spatial != 1 && spatial != 2)
    throw ValueError("conv_transpose: " + std::to_string(spatial) + " spatial dimensions, expected 1 or 2");
  kernels::validate(config_, type());
}

Shape ConvTranspose::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                                 const std::string& where) const {
  const Shape y = kernels::conv_transpose_output_shape(in.at(0), params.at(0), spatial_, config_, where);
  detail::check_channel_bias(bias_, params, y[1], where);
  return y;
}

void ConvTranspose::forward(const OpArgs& a, Tensor& y) const {
  kernels::conv_transpose_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, config_, y);
}

void ConvTranspose::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::conv_transpose_forward(a.input(), a.param(0), nullptr, config_, y);
}

void ConvTranspose::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (bias_) detail::add_channel_bias(a.param(1), y, scale);
}

void ConvTranspose::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::conv_transpose_backward_input(dy, a.param(0), config_, *dx);
  kernels::conv_transpose_backward_params(a.input(), dy, config_, g.param(0), bias_ ? g.param(1) : nullptr);
}

}  // namespace trim::ops

namespace trim::nn {

namespace {

NodeId conv_transpose(Graph& g, NodeId x, int spatial, int64_t out_channels, const std::vector<int64_t>& kernel,
                      const kernels::ConvTransposeConfig& config, bool bias, const std::string& name) {
  const std::string where = std::string(spatial == 1 ? "conv_transpose1d" : "conv_transpose2d") + " '" + name + "'";
  const Shape& xs = g.shape(x);
  if (xs.rank() != spatial + 2)
    throw ShapeError(where + ": input " + xs.str() + ", expected rank " + std::to_string(spatial + 2));
  if (out_channels < 1 || out_channels % config.groups != 0 || config.groups < 1)
    throw ValueError(where + ": out_channels " + std::to_string(out_channels) + " must be >= 1 and divisible by groups " +
                     std::to_string(config.groups));
  for (int64_t k : kernel)
    if (k < 1) throw ValueError(where + ": kernel size " + std::to_string(k) + ", expected >= 1");
  Shape wshape{xs[1], out_channels / config.groups};
  for (int64_t k : kernel) wshape.push_back(k);
  kernels::conv_transpose_output_shape(xs, wshape, spatial, config, where);  // fail before adding parameters
  // PyTorch's fan-in for ConvTranspose: weight.size(1) · kernel elements.
  int64_t fan_in = out_channels / config.groups;
  for (int64_t k : kernel) fan_in *= k;
  std::vector<int> params{g.add_parameter(name + ".weight", Tensor(wshape), Init::fan_in_uniform(fan_in))};
  if (bias)
    params.push_back(g.add_parameter(name + ".bias", Tensor({out_channels}), Init::fan_in_uniform(fan_in)));
  return g.add(std::make_shared<ops::ConvTranspose>(spatial, config, bias), {x}, params, name);
}

}  // namespace

NodeId conv_transpose1d(Graph& g, NodeId x, int64_t out_channels, int64_t kernel, const std::string& name,
                        const ConvTransposeOptions& opt) {
  const auto c = kernels::ConvTransposeConfig::one_d(opt.stride[1], opt.pads[1], opt.pads[3], opt.dilation[1],
                                                     opt.output_padding[1], opt.groups);
  return conv_transpose(g, x, 1, out_channels, {kernel}, c, opt.bias, name);
}

NodeId conv_transpose2d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 2> kernel,
                        const std::string& name, const ConvTransposeOptions& opt) {
  const kernels::ConvTransposeConfig c{opt.stride, opt.pads, opt.dilation, opt.output_padding, opt.groups};
  return conv_transpose(g, x, 2, out_channels, {kernel[0], kernel[1]}, c, opt.bias, name);
}

}  // namespace trim::nn
