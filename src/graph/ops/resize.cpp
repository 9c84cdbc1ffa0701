#include "trim/graph/ops/resize.hpp"

#include "trim/graph/nn.hpp"

namespace trim::ops {

Shape Resize::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  return kernels::resize_output_shape(in.at(0), config_, where);
}

void Resize::forward(const OpArgs& a, Tensor& y) const { kernels::resize_forward(a.input(), config_, y); }

void Resize::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::resize_backward(config_, dy, *dx);
}

}  // namespace trim::ops

namespace trim::nn {

NodeId resize(Graph& g, NodeId x, const kernels::ResizeConfig& config, const std::string& name) {
  return g.add(std::make_shared<ops::Resize>(config), {x}, {}, name);
}

}  // namespace trim::nn
