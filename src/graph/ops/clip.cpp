#include "trim/graph/ops/clip.hpp"

#include <algorithm>
#include <cmath>

#include "masked_backward.hpp"
#include "trim/core/error.hpp"

namespace trim::ops {

Shape Clip::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                        const std::string& where) const {
  if (std::isnan(lo_) || std::isnan(hi_) || lo_ > hi_)
    throw ValueError(where + ": bounds [" + std::to_string(lo_) + ", " + std::to_string(hi_) +
                     "], expected lo <= hi and no NaN");
  return Activation::infer_shape(in, params, where);
}

void Clip::phi(const float* x, float* y, int64_t n) const {
  const float lo = lo_, hi = hi_;
  // max(x, lo) written so that a NaN x stays NaN.
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] < lo ? lo : x[i];
    y[i] = v > hi ? hi : v;
  }
}

void Clip::dphi(const float* x, float* d, int64_t n) const {
  const float lo = lo_, hi = hi_;
  for (int64_t i = 0; i < n; ++i) d[i] = (x[i] > lo && x[i] < hi) ? 1.0f : 0.0f;
}

void Clip::backward(const OpArgs&, const Tensor& y, const Tensor& dy, const OpGrads& grads) const {
  // lo < x < hi exactly where lo < y < hi: x ≤ lo gives y = lo, x ≥ hi gives
  // y = hi, and a NaN x a NaN y (lo ≤ hi).
  const float lo = lo_, hi = hi_;
  detail::masked_backward(y, dy, grads, [lo, hi](float v) { return v > lo && v < hi; });
}

}  // namespace trim::ops

namespace trim::nn {

NodeId clip(Graph& g, NodeId x, float lo, float hi, const std::string& name) {
  return g.add(std::make_shared<ops::Clip>(lo, hi), {x}, {}, name);
}

}  // namespace trim::nn
