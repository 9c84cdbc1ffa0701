#include "trim/graph/ops/conv.hpp"

#include "channel_bias.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

namespace trim::ops {

using detail::add_channel_bias;
using detail::check_channel_bias;

// ---- Conv1d -------------------------------------------------------------------

Conv1d::Conv1d(const kernels::Conv1dConfig& config, bool bias) : config_(config), bias_(bias) {
  kernels::validate(config_, "conv1d");
}

Shape Conv1d::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                          const std::string& where) const {
  const Shape y = kernels::conv1d_output_shape(in.at(0), params.at(0), config_, where);
  check_channel_bias(bias_, params, y[1], where);
  return y;
}

void Conv1d::forward(const OpArgs& a, Tensor& y) const {
  kernels::conv1d_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, config_, y);
}

void Conv1d::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::conv1d_forward(a.input(), a.param(0), nullptr, config_, y);
}

void Conv1d::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (bias_) add_channel_bias(a.param(1), y, scale);
}

void Conv1d::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::conv1d_backward_input(dy, a.param(0), config_, *dx, g.assigns(0));
  kernels::conv1d_backward_params(a.input(), dy, config_, g.param(0), bias_ ? g.param(1) : nullptr);
}

int64_t Conv1d::scratch_floats(const std::vector<Shape>& in, const std::vector<Shape>& params, const Shape&) const {
  return kernels::conv1d_scratch_floats(in.at(0), params.at(0), config_);
}

// ---- Conv2d -------------------------------------------------------------------

Conv2d::Conv2d(const kernels::Conv2dConfig& config, bool bias) : config_(config), bias_(bias) {
  kernels::validate(config_, "conv2d");
}

Shape Conv2d::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                          const std::string& where) const {
  const Shape y = kernels::conv2d_output_shape(in.at(0), params.at(0), config_, where);
  check_channel_bias(bias_, params, y[1], where);
  return y;
}

void Conv2d::forward(const OpArgs& a, Tensor& y) const {
  kernels::conv2d_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, config_, y);
}

void Conv2d::forward_relu(const OpArgs& a, Tensor& y, const Tensor* residual, float clip_max) const {
  kernels::conv2d_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, config_, y,
                          {residual, !(clip_max > 0.0f), clip_max});
}

void Conv2d::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::conv2d_forward(a.input(), a.param(0), nullptr, config_, y);
}

void Conv2d::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (bias_) add_channel_bias(a.param(1), y, scale);
}

void Conv2d::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::conv2d_backward_input(dy, a.param(0), config_, *dx, g.assigns(0));
  kernels::conv2d_backward_params(a.input(), dy, config_, g.param(0), bias_ ? g.param(1) : nullptr);
}

void Conv2d::backward_input_fused(const OpArgs& a, const Tensor& dy, Tensor& dx,
                                  const kernels::ConvGradientEpilogue& after) const {
  kernels::conv2d_backward_input(dy, a.param(0), config_, dx, after);
}

int64_t Conv2d::scratch_floats(const std::vector<Shape>& in, const std::vector<Shape>& params, const Shape&) const {
  return kernels::conv2d_scratch_floats(in.at(0), params.at(0), config_);
}

}  // namespace trim::ops

namespace trim::nn {

namespace {

/// Input channel count of a conv layer's input, checking rank and groups
/// before any parameter is created.
int64_t conv_in_channels(const Shape& xs, int rank, int64_t out_channels, int64_t groups,
                         const std::string& where) {
  if (xs.rank() != rank)
    throw ShapeError(where + ": input " + xs.str() + ", expected rank " + std::to_string(rank) +
                     (rank == 4 ? " [N,C_in,H,W]" : " [N,C_in,L]"));
  const int64_t cin = xs[1];
  if (out_channels < 1) throw ValueError(where + ": out_channels " + std::to_string(out_channels) + ", expected >= 1");
  if (cin % groups != 0)
    throw ValueError(where + ": groups " + std::to_string(groups) + " does not divide the " +
                     std::to_string(cin) + " input channels of input " + xs.str());
  if (out_channels % groups != 0)
    throw ValueError(where + ": groups " + std::to_string(groups) + " does not divide out_channels " +
                     std::to_string(out_channels));
  return cin;
}

}  // namespace

NodeId conv1d(Graph& g, NodeId x, int64_t out_channels, int64_t kernel, const std::string& name,
              const Conv1dOptions& opt) {
  const std::string where = "conv1d '" + name + "'";
  const kernels::Conv1dConfig config{opt.stride, opt.pad_left, opt.pad_right, opt.dilation, opt.groups};
  kernels::validate(config, where);
  const int64_t cin = conv_in_channels(g.shape(x), 3, out_channels, opt.groups, where);
  if (kernel < 1) throw ValueError(where + ": kernel " + std::to_string(kernel) + ", expected >= 1");
  const Shape wshape{out_channels, cin / opt.groups, kernel};
  kernels::conv1d_output_shape(g.shape(x), wshape, config, where);  // fail before adding parameters
  const int64_t fan_in = cin / opt.groups * kernel;
  std::vector<int> params{g.add_parameter(name + ".weight", Tensor(wshape),
                                          Init::fan_in_uniform(fan_in))};
  if (opt.bias)
    params.push_back(g.add_parameter(name + ".bias", Tensor({out_channels}), Init::fan_in_uniform(fan_in)));
  return g.add(std::make_shared<ops::Conv1d>(config, opt.bias), {x}, params, name);
}

NodeId conv2d(Graph& g, NodeId x, int64_t out_channels, std::array<int64_t, 2> kernel,
              const std::string& name, const Conv2dOptions& opt) {
  const std::string where = "conv2d '" + name + "'";
  const kernels::Conv2dConfig config{opt.stride, opt.pads, opt.dilation, opt.groups};
  kernels::validate(config, where);
  const int64_t cin = conv_in_channels(g.shape(x), 4, out_channels, opt.groups, where);
  if (kernel[0] < 1 || kernel[1] < 1)
    throw ValueError(where + ": kernel " + std::to_string(kernel[0]) + "x" + std::to_string(kernel[1]) +
                     ", expected >= 1");
  const Shape wshape{out_channels, cin / opt.groups, kernel[0], kernel[1]};
  kernels::conv2d_output_shape(g.shape(x), wshape, config, where);  // fail before adding parameters
  const int64_t fan_in = cin / opt.groups * kernel[0] * kernel[1];
  std::vector<int> params{g.add_parameter(name + ".weight",
                                          Tensor(wshape),
                                          Init::fan_in_uniform(fan_in))};
  if (opt.bias)
    params.push_back(g.add_parameter(name + ".bias", Tensor({out_channels}), Init::fan_in_uniform(fan_in)));
  return g.add(std::make_shared<ops::Conv2d>(config, opt.bias), {x}, params, name);
}

}  // namespace trim::nn
