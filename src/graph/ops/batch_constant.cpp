#include "trim/graph/ops/batch_constant.hpp"

#include "trim/core/error.hpp"

namespace trim::ops {

Shape BatchConstant::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                                 const std::string& where) const {
  if (in.size() != 1 || in[0].rank() < 1) throw ShapeError(where + ": expected one input with a batch axis");
  if (params.size() != 1) throw ShapeError(where + ": expected one parameter (the value)");
  Shape y{in[0][0]};
  for (int k = 0; k < params[0].rank(); ++k) y.push_back(params[0][k]);
  return y;
}

void BatchConstant::forward(const OpArgs& a, Tensor& y) const {
  y.set_zero();
  add_bias(a, y, 1.0f);
}

void BatchConstant::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  const Tensor& v = a.param(0);
  const int64_t per = v.numel();
  if (per == 0) return;
  float* yd = y.data();
  for (int64_t i = 0; i < y.numel(); ++i) yd[i] += scale * v[i % per];
}

}  // namespace trim::ops
