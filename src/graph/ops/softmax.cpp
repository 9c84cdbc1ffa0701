#include "trim/graph/ops/softmax.hpp"

#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/kernels/softmax.hpp"

namespace trim::ops {

namespace {

/// The input shape, after checking that `axis` names a non-batch axis of it.
Shape check_axis(const std::vector<Shape>& in, int axis, const std::string& where) {
  const Shape& x = in.at(0);
  const int r = x.rank();
  if (axis < -r || axis >= r)
    throw ShapeError(where + ": axis " + std::to_string(axis) + " is out of range for input " + x.str() +
                     " (rank " + std::to_string(r) + ")");
  if ((axis < 0 ? axis + r : axis) == 0)
    throw ValueError(where + ": axis " + std::to_string(axis) + " of input " + x.str() +
                     " is the batch axis; normalising across examples would couple them"
                     " (expected an axis in [1," + std::to_string(r) + ") or negative)");
  return x;
}

}  // namespace

Shape Softmax::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                           const std::string& where) const {
  return check_axis(in, axis_, where);
}

void Softmax::forward(const OpArgs& a, Tensor& y) const { kernels::softmax_forward(a.input(), axis_, y); }

void Softmax::backward(const OpArgs&, const Tensor& y, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::softmax_backward(y, dy, axis_, *dx);
}

Shape LogSoftmax::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                              const std::string& where) const {
  return check_axis(in, axis_, where);
}

void LogSoftmax::forward(const OpArgs& a, Tensor& y) const {
  kernels::log_softmax_forward(a.input(), axis_, y);
}

void LogSoftmax::backward(const OpArgs&, const Tensor& y, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::log_softmax_backward(y, dy, axis_, *dx);
}

}  // namespace trim::ops

namespace trim::nn {

NodeId softmax(Graph& g, NodeId x, int axis, const std::string& name) {
  return g.add(std::make_shared<ops::Softmax>(axis), {x}, {}, name);
}

NodeId log_softmax(Graph& g, NodeId x, int axis, const std::string& name) {
  return g.add(std::make_shared<ops::LogSoftmax>(axis), {x}, {}, name);
}

}  // namespace trim::nn
