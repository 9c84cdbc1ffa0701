#include "inverse_op.hpp"

#include "trim/core/error.hpp"

namespace trim::detail {

void check_batched(const Shape& x, const Shape& per_example, const std::string& where) {
  bool ok = x.rank() == per_example.rank() + 1;
  for (int i = 0; ok && i < per_example.rank(); ++i) ok = x[i + 1] == per_example[i];
  if (!ok) throw ShapeError(where + ": input " + x.str() + ", expected " + prepend({Shape::free}, per_example).str());
}

Shape TransformInverseOp::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                                      const std::string& where) const {
  const Shape& s = in.at(0);
  check_batched(s, coefficient_shape_, where);
  return prepend({s[0]}, input_shape_);
}

void TransformInverseOp::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* ds = g.input(0)) add_adjoint(dy, *ds);
}

}  // namespace trim::detail
