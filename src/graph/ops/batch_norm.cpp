#include "trim/graph/ops/batch_norm.hpp"

#include <cmath>

#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/kernels/batch_norm.hpp"

namespace trim::ops {

namespace {
const char* const param_names[4] = {"weight", "bias", "running_mean", "running_var"};
}  // namespace

Shape BatchNorm::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                             const std::string& where) const {
  const Shape& x = in.at(0);
  if (x.rank() < 2) throw ShapeError(where + ": input " + x.str() + ", expected rank >= 2 ([N,C,...])");
  if (!(eps_ >= 0.0f) || !std::isfinite(eps_))
    throw ValueError(where + ": eps " + std::to_string(eps_) + ", expected a finite value >= 0");
  if (params.size() != 4)
    throw ValueError(where + ": " + std::to_string(params.size()) +
                     " parameters, expected 4 (weight, bias, running_mean, running_var)");
  const Shape expected{x[1]};
  for (size_t i = 0; i < 4; ++i)
    if (params[i] != expected)
      throw ShapeError(where + ": " + param_names[i] + " " + params[i].str() + ", expected " + expected.str() +
                       " for input " + x.str());
  return x;
}

void BatchNorm::forward(const OpArgs& a, Tensor& y) const {
  kernels::batch_norm_forward(a.input(), a.param(0), a.param(1), a.param(2), a.param(3), eps_, y, true);
}

void BatchNorm::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::batch_norm_forward(a.input(), a.param(0), a.param(1), a.param(2), a.param(3), eps_, y, false);
}

void BatchNorm::forward_relu(const OpArgs& a, Tensor& y) const {
  kernels::batch_norm_forward(a.input(), a.param(0), a.param(1), a.param(2), a.param(3), eps_, y, true, true);
}

void BatchNorm::forward_relu_concat(const OpArgs& a, const std::vector<const Tensor*>& parts, Tensor& y) const {
  kernels::batch_norm_relu_forward_concat(parts, a.param(0), a.param(1), a.param(2), a.param(3), eps_, y);
}

void BatchNorm::backward_relu(const OpArgs& a, const Tensor& z, const Tensor& dz, Tensor& dx, bool assign) const {
  kernels::batch_norm_backward_input(dz, a.param(0), a.param(3), eps_, dx, assign, &z);
}

Tensor BatchNorm::gradient_scale(const OpArgs& a) const {
  return kernels::batch_norm_gradient_scale(a.param(0), a.param(3), eps_);
}

void BatchNorm::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  kernels::batch_norm_add_shift(a.param(0), a.param(1), a.param(2), a.param(3), eps_, y, scale);
}

void BatchNorm::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::batch_norm_backward_input(dy, a.param(0), a.param(3), eps_, *dx, g.assigns(0));
  if (g.param(0) || g.param(1))
    kernels::batch_norm_backward_params(a.input(), dy, a.param(2), a.param(3), eps_, g.param(0), g.param(1));
}

}  // namespace trim::ops

namespace trim::nn {

NodeId batch_norm(Graph& g, NodeId x, const std::string& name, float eps) {
  const Shape& xs = g.shape(x);
  if (xs.rank() < 2)
    throw ShapeError("batch_norm '" + name + "': input " + xs.str() + ", expected rank >= 2 ([N,C,...])");
  const Tensor per_channel(Shape{xs[1]});
  std::vector<int> params{
      g.add_parameter(name + ".weight", per_channel, Init::ones()),
      g.add_parameter(name + ".bias", per_channel, Init::zeros()),
      g.add_parameter(name + ".running_mean", per_channel, Init::zeros(), false),
      g.add_parameter(name + ".running_var", per_channel, Init::ones(), false),
  };
  return g.add(std::make_shared<ops::BatchNorm>(eps), {x}, params, name);
}

}  // namespace trim::nn
